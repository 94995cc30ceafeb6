import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/util/random.js';
import {
  canonicalScene,
  DIALECTS,
  describe,
  parsePrompt,
  sampleScene,
} from '../../../src/worlds/shapes/index.js';

test('parsePrompt(describe(scene)) has the scene meaning in both dialects, over thousands of scenes', () => {
  const rng = new Rng(2024);
  for (let i = 0; i < 3000; i++) {
    const scene = sampleScene(rng);
    for (const dialect of DIALECTS) {
      const prompt = describe(scene, dialect, rng);
      assert.deepEqual(canonicalScene(parsePrompt(prompt)), canonicalScene(scene), prompt);
    }
  }
});

test('parsePrompt reads counts, sizes, details, regions and relations', () => {
  const s = parsePrompt(
    'two small red circles above a striped blue square, a hollow cyan star in the top left',
  );
  assert.deepEqual(s, {
    groups: [
      { count: 2, shape: 'circle', colour: 'red', size: 'small', detail: 'plain', region: null },
      { count: 1, shape: 'square', colour: 'blue', size: null, detail: 'striped', region: null },
      { count: 1, shape: 'star', colour: 'cyan', size: null, detail: 'hollow', region: 'top left' },
    ],
    relations: [{ subject: 0, relation: 'above', object: 1 }],
  });
  const v = parsePrompt(
    'a clean minimal illustration showing a big green cross with stripes positioned on the right side of the canvas, rendered on a plain dark background, high quality',
  );
  assert.deepEqual(v.groups, [
    { count: 1, shape: 'cross', colour: 'green', size: 'large', detail: 'striped', region: 'right' },
  ]);
});

test('parsePrompt names the word it cannot read', () => {
  assert.throws(() => parsePrompt('a purple circle'), /unknown word 'purple'/);
  assert.throws(() => parsePrompt('a red'), /end of prompt.*shape/);
  assert.throws(() => parsePrompt('a circle'), /'circle'.*colour/);
  assert.throws(() => parsePrompt('a red blue circle'), /'blue'/);
  assert.throws(() => parsePrompt('red circle'), /'red'.*count/);
  assert.throws(() => parsePrompt('high quality'), /at least one object/);
  assert.throws(() => parsePrompt('four red circles and three blue squares'), /7 objects/);
});
