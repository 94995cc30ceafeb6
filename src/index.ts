export * from './models/index.js';
export { DEFAULT_MODEL_DIR } from './paths.js';
export * from './pipelines/guidance.js';
export * from './pipelines/latents.js';
export * from './pipelines/text2img.js';
export * from './schedulers/index.js';
export * from './util/image.js';
export { Rng } from './util/random.js';
