import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/util/random.js';
import {
  addNoise,
  alterObject,
  blur,
  noiseImage,
  withoutObject,
} from '../../../src/worlds/shapes/degrade.js';
import {
  COLOURS,
  describe,
  fullSuccess,
  judge,
  layoutScene,
  type Placement,
  parsePrompt,
  render,
  renderPlacements,
  sampleScene,
} from '../../../src/worlds/shapes/index.js';
import { JUDGE_MEAN, JUDGE_SD } from '../../../src/worlds/shapes/judge.js';
import { referenceStatistics } from '../../../src/worlds/shapes/judge-calibration.js';

/** Held-out prompts: seeds no other test uses. */
function heldOut(n: number, seed: number): { prompt: string; placed: Placement[] }[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const scene = sampleScene(rng);
    const prompt = describe(scene, i % 2 === 0 ? 'terse' : 'verbose', rng);
    return { prompt, placed: layoutScene(scene, rng) };
  });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('fullSuccess holds for at least 95% of clean 32 px renders', () => {
  const items = heldOut(200, 9001);
  const ok = items.filter(({ prompt, placed }) =>
    fullSuccess(prompt, renderPlacements(placed, 32), 32),
  ).length;
  assert.ok(ok >= 0.95 * items.length, `fullSuccess on ${ok}/${items.length}`);
});

test('a prompt’s own render beats another prompt’s render, and both beat pure noise', () => {
  const rng = new Rng(5);
  const items = heldOut(60, 9002);
  let ownWins = 0;
  for (const [i, { prompt, placed }] of items.entries()) {
    const own = judge(prompt, renderPlacements(placed, 32), 32).total;
    const other = judge(prompt, renderPlacements(items[(i + 1) % items.length].placed, 32), 32).total;
    const noise = judge(prompt, noiseImage(32, rng), 32).total;
    if (own > other) ownWins++;
    assert.ok(other > noise, `${prompt}: other ${other} vs noise ${noise}`);
  }
  assert.ok(ownWins >= 0.95 * items.length, `own render wins ${ownWins}/${items.length}`);
});

test('blur and noise lower the score, more the stronger they are, at 32, 64 and 128 px', () => {
  const rng = new Rng(6);
  for (const [size, n] of [
    [32, 30],
    [64, 8],
    [128, 4],
  ] as const) {
    const items = heldOut(n, 9003 + size);
    const px = size / 32;
    const levels: Record<string, number[]> = {};
    const record = (k: string, v: number) => {
      levels[k] ??= [];
      levels[k].push(v);
    };
    for (const { prompt, placed } of items) {
      const clean = renderPlacements(placed, size);
      const score = (img: Float32Array) => judge(prompt, img, size).total;
      const c = score(clean);
      record('clean', c);
      for (const sigma of [0.5, 1]) {
        const s = score(blur(clean, size, sigma * px));
        assert.ok(s < c, `${size}px blur ${sigma}: ${s} vs clean ${c} for ${prompt}`);
        record(`blur${sigma}`, s);
      }
      for (const sd of [0.03, 0.1]) {
        const s = score(addNoise(clean, sd, rng));
        assert.ok(s < c, `${size}px noise ${sd}: ${s} vs clean ${c} for ${prompt}`);
        record(`noise${sd}`, s);
      }
    }
    const m = (k: string) => mean(levels[k]);
    assert.ok(m('blur1') < m('blur0.5') && m('blur0.5') < m('clean'));
    assert.ok(m('noise0.1') < m('noise0.03') && m('noise0.03') < m('clean'));
  }
});

test('the score falls continuously as blur grows', () => {
  const items = heldOut(20, 9004);
  const sigmas = [0, 0.2, 0.4, 0.6, 0.8, 1.0];
  const means = sigmas.map((sigma) =>
    mean(
      items.map(({ prompt, placed }) => {
        const img = renderPlacements(placed, 32);
        return judge(prompt, sigma ? blur(img, 32, sigma) : img, 32).total;
      }),
    ),
  );
  for (let i = 1; i < means.length; i++)
    assert.ok(means[i] < means[i - 1], `means ${means.map((m) => m.toFixed(3))}`);
});

test('each part answers to its own error', () => {
  const items = heldOut(40, 9005);
  const drops: Record<string, number> = {};
  for (const { prompt, placed } of items) {
    const size = 32;
    const base = judge(prompt, renderPlacements(placed, size), size).parts;
    const o = placed[0].object;
    const changed = (k: string, img: Float32Array) => {
      const p = judge(prompt, img, size).parts;
      assert.ok(p[k] < base[k] - 0.1, `${k}: ${p[k]} vs ${base[k]} for ${prompt}`);
      assert.ok(p.alignment < base.alignment);
      drops[k] = (drops[k] ?? 0) + 1;
    };
    const colour = COLOURS[(COLOURS.indexOf(o.colour) + 3) % COLOURS.length];
    changed('colour', renderPlacements(alterObject(placed, 0, { colour }), size));
    changed(
      'shape',
      renderPlacements(alterObject(placed, 0, { shape: o.shape === 'circle' ? 'cross' : 'circle' }), size),
    );
    if (o.size !== 'small' || o.detail !== 'dotted') {
      const detail = o.detail === 'hollow' ? 'plain' : 'hollow';
      changed('detail', renderPlacements(alterObject(placed, 0, { detail }), size));
    }
    if (o.size) {
      const s = o.size === 'large' ? 0.25 : 0.41;
      const resized = placed.map((p, i) => (i === 0 ? { ...p, s } : p));
      // Growing an object may make it touch a neighbour; only judge clear layouts.
      if (o.size === 'large' || placed.length === 1) changed('size', renderPlacements(resized, size));
    }
    if (placed.length > 1) changed('count', renderPlacements(withoutObject(placed, 0), size));
  }
  assert.ok(
    Object.values(drops).every((n) => n > 5),
    JSON.stringify(drops),
  );
});

test('an extra object lowers extra, a misplaced one lowers position', () => {
  const prompt = 'a large red circle in the top left';
  const scene = parsePrompt(prompt);
  const placed = layoutScene(scene, new Rng(1));
  const base = judge(prompt, renderPlacements(placed, 32), 32);
  assert.ok(base.success);
  const extra: Placement = {
    object: { ...placed[0].object, colour: 'blue', shape: 'square' },
    cx: 0.75,
    cy: 0.75,
    s: 0.3,
  };
  const withExtra = judge(prompt, renderPlacements([...placed, extra], 32), 32);
  assert.ok(withExtra.parts.extra < base.parts.extra - 0.3 && !withExtra.success);
  const moved = judge(prompt, renderPlacements([{ ...placed[0], cx: 0.7, cy: 0.7 }], 32), 32);
  assert.ok(moved.parts.position < base.parts.position - 0.5 && !moved.success);
  const relation = 'a small green star above a blue square';
  const rp = layoutScene(parsePrompt(relation), new Rng(2));
  const swapped = rp.map((p, i) => ({ ...p, cy: rp[1 - i].cy, cx: rp[1 - i].cx }));
  assert.ok(judge(relation, renderPlacements(swapped, 32), 32).parts.position < 0.2);
  assert.ok(judge(relation, renderPlacements(rp, 32), 32).parts.position > 0.9);
});

test('totals are standardised over fresh reference items', () => {
  const { mean: m, sd } = referenceStatistics(120, 100_000);
  // raw standardised by the stored constants: mean near 0, sd near 1.
  assert.ok(Math.abs((m - JUDGE_MEAN) / JUDGE_SD) < 0.2, `mean ${(m - JUDGE_MEAN) / JUDGE_SD}`);
  assert.ok(Math.abs(sd / JUDGE_SD - 1) < 0.2, `sd ratio ${sd / JUDGE_SD}`);
});

test('judge rejects images that are too small or the wrong length', () => {
  const img = render(parsePrompt('a red circle'), 16);
  assert.throws(() => judge('a red circle', img, 16), /below 32/);
  assert.throws(() => judge('a red circle', img, 32), /expected 3072/);
});
