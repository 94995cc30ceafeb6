import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/util/random.js';
import { SHAPE_EXTENT } from '../../../src/worlds/shapes/geometry.js';
import {
  canonicalScene,
  layoutScene,
  MAX_OBJECTS,
  NOMINAL_SIZE,
  objectCount,
  type Scene,
  sameScene,
  sampleScene,
  sceneObjects,
  tryLayout,
} from '../../../src/worlds/shapes/index.js';
import { regionDistance, relationMargin } from '../../../src/worlds/shapes/spatial.js';

test('sampleScene is reproducible and its richness leans to 1-3 objects with a tail to 6', () => {
  assert.deepEqual(sampleScene(new Rng(3)), sampleScene(new Rng(3)));
  const rng = new Rng(11);
  const histogram = new Array(MAX_OBJECTS + 1).fill(0);
  const seen = { count: 0, size: 0, detail: 0, region: 0, relation: 0 };
  const n = 2000;
  for (let i = 0; i < n; i++) {
    const s = sampleScene(rng);
    histogram[objectCount(s)]++;
    if (s.groups.some((g) => g.count > 1)) seen.count++;
    if (s.groups.some((g) => g.size !== null)) seen.size++;
    if (s.groups.some((g) => g.detail !== 'plain')) seen.detail++;
    if (s.groups.some((g) => g.region !== null)) seen.region++;
    if (s.relations.length > 0) seen.relation++;
  }
  assert.equal(histogram[0], 0);
  const upTo3 = histogram[1] + histogram[2] + histogram[3];
  assert.ok(upTo3 > 0.55 * n, `1-3 objects in ${upTo3}/${n}`);
  assert.ok(histogram[6] > 0.03 * n, `6 objects in ${histogram[6]}/${n}`);
  for (const [k, v] of Object.entries(seen)) assert.ok(v > 0.15 * n, `${k} appears in ${v}/${n} scenes`);
});

test('sampleScene honours object bounds', () => {
  const rng = new Rng(5);
  for (let i = 0; i < 200; i++) {
    const k = objectCount(sampleScene(rng, { minObjects: 2, maxObjects: 3 }));
    assert.ok(k >= 2 && k <= 3);
  }
  assert.throws(() => sampleScene(rng, { minObjects: 4, maxObjects: 2 }), /minObjects/);
});

test('layouts keep objects inside the canvas, apart, in their regions and relations', () => {
  const rng = new Rng(21);
  for (let i = 0; i < 1000; i++) {
    const scene = sampleScene(rng);
    const placed = layoutScene(scene, rng);
    assert.equal(placed.length, objectCount(scene));
    for (const p of placed) {
      const e = SHAPE_EXTENT[p.object.shape];
      assert.ok(
        p.cx - e.hx * p.s >= 0 && p.cx + e.hx * p.s <= 1 && p.cy - e.hy * p.s >= 0 && p.cy + e.hy * p.s <= 1,
      );
      if (p.object.size) assert.ok(Math.abs(p.s / NOMINAL_SIZE[p.object.size] - 1) < 0.07);
      if (p.object.region) assert.equal(regionDistance(p.object.region, { x: p.cx, y: p.cy }), 0);
      for (const q of placed) {
        if (q === p) continue;
        const eq = SHAPE_EXTENT[q.object.shape];
        const apartX = Math.abs(p.cx - q.cx) - (e.hx * p.s + eq.hx * q.s);
        const apartY = Math.abs(p.cy - q.cy) - (e.hy * p.s + eq.hy * q.s);
        assert.ok(Math.max(apartX, apartY) > 0.01, 'objects keep a gap');
      }
    }
    for (const r of scene.relations) {
      for (const a of placed.filter((p) => p.object.group === r.subject)) {
        for (const b of placed.filter((p) => p.object.group === r.object)) {
          assert.ok(relationMargin(r.relation, { x: a.cx, y: a.cy }, { x: b.cx, y: b.cy }) > 0.09);
        }
      }
    }
  }
});

test('an over-full scene still lays out (overlapping) instead of failing', () => {
  const big = { count: 3, colour: 'red', size: 'large', detail: 'plain', region: 'top left' } as const;
  const scene: Scene = {
    groups: [
      { ...big, shape: 'circle' },
      { ...big, shape: 'square' },
    ],
    relations: [],
  };
  assert.equal(tryLayout(scene, new Rng(1)), null);
  assert.equal(layoutScene(scene, new Rng(1)).length, 6);
});

test('canonicalScene ignores group order and relation direction', () => {
  const a: Scene = {
    groups: [
      { count: 2, shape: 'circle', colour: 'red', size: 'small', detail: 'plain', region: null },
      { count: 1, shape: 'square', colour: 'blue', size: null, detail: 'striped', region: null },
    ],
    relations: [{ subject: 0, relation: 'above', object: 1 }],
  };
  const b: Scene = {
    groups: [a.groups[1], a.groups[0]],
    relations: [{ subject: 0, relation: 'below', object: 1 }],
  };
  assert.ok(sameScene(a, b));
  assert.deepEqual(canonicalScene(a), canonicalScene(b));
  assert.ok(!sameScene(a, { ...b, relations: [{ subject: 0, relation: 'above', object: 1 }] }));
  assert.equal(sceneObjects(a).length, 3);
});
