import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/util/random.js';
import {
  BACKGROUND,
  PALETTE,
  type Placement,
  parsePrompt,
  render,
  renderPlacements,
  type SceneObject,
  sampleScene,
} from '../../../src/worlds/shapes/index.js';

function object(over: Partial<SceneObject>): SceneObject {
  return { group: 0, shape: 'square', colour: 'red', size: 'large', detail: 'plain', region: null, ...over };
}

test('render gives CHW RGB in [0, 1] at any size, on the plain background', () => {
  const scene = parsePrompt('a large red circle in the center');
  for (const size of [32, 64, 128]) {
    const img = render(scene, size, new Rng(1));
    assert.equal(img.length, 3 * size * size);
    for (const v of img) assert.ok(v >= 0 && v <= 1);
    for (let c = 0; c < 3; c++)
      assert.ok(Math.abs(img[c * size * size] - BACKGROUND[c]) < 1e-6, 'corner is background');
    // The centre pixel is the object colour.
    const mid = (size / 2) * size + size / 2;
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(img[c * size * size + mid] - PALETTE.red[c]) < 1e-6);
  }
});

test('render is anti-aliased and its area is resolution independent', () => {
  const p: Placement[] = [{ object: object({ shape: 'circle' }), cx: 0.5, cy: 0.5, s: 0.42 }];
  const areas = [32, 64, 128].map((size) => {
    const img = renderPlacements(p, size);
    let covered = 0;
    let partial = 0;
    for (let k = 0; k < size * size; k++) {
      const a = (img[k] - BACKGROUND[0]) / (PALETTE.red[0] - BACKGROUND[0]);
      covered += a;
      if (a > 0.05 && a < 0.95) partial++;
    }
    assert.ok(partial > 0, 'edge pixels are blended');
    return covered / (size * size);
  });
  const disc = Math.PI * 0.21 ** 2;
  for (const a of areas) assert.ok(Math.abs(a / disc - 1) < 0.02, `area ${a} vs ${disc}`);
});

test('render jitter comes from the rng; without one it is reproducible', () => {
  const scene = parsePrompt('two small blue stars and a green square');
  assert.deepEqual(render(scene, 32), render(scene, 32));
  assert.deepEqual(render(scene, 32, new Rng(4)), render(scene, 32, new Rng(4)));
  assert.notDeepEqual(render(scene, 32, new Rng(4)), render(scene, 32, new Rng(5)));
});

test('details are visible at 32 px on large objects', () => {
  const plain = renderPlacements([{ object: object({}), cx: 0.5, cy: 0.5, s: 0.42 }], 32);
  for (const detail of ['striped', 'dotted', 'hollow'] as const) {
    const img = renderPlacements([{ object: object({ detail }), cx: 0.5, cy: 0.5, s: 0.42 }], 32);
    let changed = 0;
    for (let k = 0; k < 32 * 32; k++) if (Math.abs(img[k] - plain[k]) > 0.3) changed++;
    assert.ok(changed >= 20, `${detail}: ${changed} pixels differ from plain`);
  }
});

test('rendering at 32 px runs at thousands of images per second', () => {
  const rng = new Rng(8);
  const scenes = Array.from({ length: 300 }, () => sampleScene(rng));
  const t0 = performance.now();
  for (const s of scenes) render(s, 32, rng);
  const perSecond = scenes.length / ((performance.now() - t0) / 1000);
  assert.ok(perSecond > 1000, `${perSecond.toFixed(0)} images/s`);
});
