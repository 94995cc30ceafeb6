/** Model folders (diffusers / Optimum ONNX layout), their tokenizer, and the ONNX graph builder. */
export { ModelFolderError } from './errors.js';
export {
  type LoadOptions,
  loadModelFolder,
  type ModelFolder,
  SDXL_TIME_IDS,
  type SdxlParts,
  type TextEncoderModel,
  type UnetModel,
  type VaeDecoderModel,
} from './model-folder.js';
export {
  type Attrs,
  type AttrValue,
  type ElemType,
  type FloatAttr,
  floatAttr,
  GraphBuilder,
  type TensorAttr,
  type TensorData,
  tensorAttr,
} from './onnx-graph.js';
export {
  availableExecutionProviders,
  type ExecutionProvider,
  type OnnxModel,
  type TensorSpec,
  type TensorType,
} from './onnx-model.js';
export {
  clipBpeTokenizerJson,
  loadTokenizer,
  type PromptEncoding,
  type PromptTokenizer,
} from './tokenizer.js';
