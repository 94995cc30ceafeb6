/** Evaluation metrics of AdaDiff's Sec. 4: FID, IS, CLIP score and NIQE, and the networks they run on. */
export { type AggdFit, fitAggd } from './aggd.js';
export { type ClipScore, clipScore } from './clip-score.js';
export {
  type ClipEmbeddings,
  type ClipNet,
  type FeatureKind,
  type FeatureNetOptions,
  type ImageFeatureNet,
  loadClipNet,
  loadImageFeatureNet,
} from './feature-net.js';
export { fid, frechetDistance, traceSqrtProduct } from './fid.js';
export { GaussianAccumulator, type GaussianStats, gaussianStats } from './gaussian-stats.js';
export { type InceptionScore, inceptionScore, softmax } from './inception-score.js';
export { pinvSymmetric, type SymmetricEigen, sqrtmPsd, symmetricEigen } from './linalg.js';
export { imresize } from './matlab-imresize.js';
export {
  fitNiqeModel,
  type GrayImage,
  type Mscn,
  mscn,
  NIQE_PATCH_SIZE,
  type NiqeModel,
  type NiqePatches,
  niqe,
  niqeDistance,
  niqePatchFeatures,
  niqePristineModel,
  rgbToGray,
} from './niqe.js';
