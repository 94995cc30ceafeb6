import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/util/random.js';
import {
  DIALECTS,
  describe,
  MAX_PROMPT_WORDS,
  normalizeWords,
  sampleScene,
  WORLD_VOCABULARY,
} from '../../../src/worlds/shapes/index.js';

test('prompts fit the word budget and use only vocabulary words, over thousands of scenes', () => {
  const vocab = new Set(WORLD_VOCABULARY);
  const used = new Set<string>();
  const rng = new Rng(101);
  let longest = 0;
  for (let i = 0; i < 3000; i++) {
    const scene = sampleScene(rng);
    for (const dialect of DIALECTS) {
      const words = normalizeWords(describe(scene, dialect, rng));
      longest = Math.max(longest, words.length);
      for (const w of words) {
        assert.ok(vocab.has(w), `'${w}' missing from WORLD_VOCABULARY`);
        used.add(w);
      }
    }
  }
  assert.ok(longest <= MAX_PROMPT_WORDS, `longest prompt ${longest} words`);
  // The vocabulary lists only words the dialects actually produce.
  const unused = WORLD_VOCABULARY.filter((w) => !used.has(w));
  assert.deepEqual(unused, []);
});

test('verbose prompts carry style filler, terse ones do not, and wording varies', () => {
  const rng = new Rng(7);
  const scene = sampleScene(rng, { minObjects: 3, maxObjects: 3 });
  const terse = new Set<string>();
  const verbose = new Set<string>();
  for (let i = 0; i < 40; i++) {
    terse.add(describe(scene, 'terse', rng));
    verbose.add(describe(scene, 'verbose', rng));
  }
  assert.ok(terse.size > 5 && verbose.size > 5, 'several wordings of one scene');
  const mean = (s: Set<string>) => [...s].reduce((n, p) => n + normalizeWords(p).length, 0) / s.size;
  assert.ok(mean(verbose) > mean(terse) + 6, `verbose ${mean(verbose)} vs terse ${mean(terse)} words`);
  for (const p of terse) assert.doesNotMatch(p, /background|quality|image of|illustration/);
});

test('terse prompts read like the spec examples', () => {
  const scene = {
    groups: [
      { count: 2, shape: 'circle', colour: 'red', size: 'small', detail: 'plain', region: null },
      { count: 1, shape: 'square', colour: 'blue', size: null, detail: 'striped', region: null },
    ],
    relations: [{ subject: 0, relation: 'above', object: 1 }],
  } as const;
  const seen = new Set<string>();
  const rng = new Rng(2);
  for (let i = 0; i < 200; i++)
    seen.add(
      describe({ ...scene, groups: [...scene.groups], relations: [...scene.relations] }, 'terse', rng),
    );
  assert.ok(seen.has('two small red circles above a striped blue square'), [...seen].join('\n'));
});

test('normalizeWords lower-cases and strips punctuation', () => {
  assert.deepEqual(normalizeWords('  Two RED circles,  high-quality! '), [
    'two',
    'red',
    'circles',
    'high',
    'quality',
  ]);
  assert.equal(new Set(WORLD_VOCABULARY).size, WORLD_VOCABULARY.length);
});
