import type { World } from '../../eval/world.js';
import { parsePrompt } from './parse.js';
import { render } from './render.js';
import { sceneObjects } from './scene.js';
import { worldJudgeScorer } from './scorer.js';
import { normalizeWords } from './vocabulary.js';

/** The shapes world, for the evaluation: its judge, object counts and clean renders. */
export const shapesWorld: World = {
  name: 'shapes',
  scorer: worldJudgeScorer,
  objectCount(prompt) {
    try {
      return sceneObjects(parsePrompt(prompt)).length;
    } catch {
      return null;
    }
  },
  wordCount: (prompt) => normalizeWords(prompt).length,
  render: (prompt, size) => ({ width: size, height: size, chw: render(parsePrompt(prompt), size) }),
};
