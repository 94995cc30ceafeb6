/** The shapes world: scenes, prompts in two dialects, parser, renderer, vocabulary and judge. */
export { addNoise, alterObject, blur, noiseImage, withoutObject } from './degrade.js';
export { DIALECTS, type Dialect, describe } from './describe.js';
export { type SampleOptions, sampleScene } from './generate.js';
export { fullSuccess, JUDGE_MEAN, JUDGE_SD, type JudgeScore, judge } from './judge.js';
export { layoutScene, type Placement, tryLayout } from './layout.js';
export { BACKGROUND, PALETTE, type Rgb } from './palette.js';
export { parsePrompt } from './parse.js';
export { render, renderPlacements, sceneSeed } from './render.js';
export {
  COLOURS,
  type Colour,
  canonicalScene,
  DETAILS,
  type Detail,
  type GroupRelation,
  MAX_GROUP_COUNT,
  MAX_OBJECTS,
  type ObjectGroup,
  objectCount,
  REGIONS,
  RELATIONS,
  type Region,
  type Relation,
  type Scene,
  type SceneObject,
  SHAPES,
  type Shape,
  SIZES,
  type Size,
  sameScene,
  sceneObjects,
} from './scene.js';
export { NOMINAL_SIZE } from './spatial.js';
export { MAX_PROMPT_WORDS, normalizeWords, WORLD_VOCABULARY } from './vocabulary.js';
