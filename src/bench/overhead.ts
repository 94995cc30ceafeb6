import ort from 'onnxruntime-node';
import { initialLatents } from '../pipelines/latents.js';
import { inputIdsTensor, type Text2ImagePipeline, timestepTensor } from '../pipelines/text2img.js';

export interface OverheadReport {
  steps: number;
  repeats: number;
  /** Median wall time of `generate`, ms. */
  pipelineMs: number;
  /** Median wall time of the same ONNX calls made directly with prepared tensors, ms. */
  rawOnnxMs: number;
  /** (pipeline - raw) / pipeline. */
  overhead: number;
}

/** Median of timings (the upper one of an even count). */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * What the pipeline costs on top of its ONNX calls: tokenising, tensor packing, guidance arithmetic,
 * scheduler math and post-processing. The raw run makes the identical session calls (two text
 * encodings, `steps` batched UNet calls, one decode) on tensors built beforehand.
 */
export async function measureOverhead(
  pipe: Text2ImagePipeline,
  steps: number,
  repeats: number,
): Promise<OverheadReport> {
  const prompt = 'two small red circles above a striped blue square';
  const { textEncoder, unet, vaeDecoder, tokenizer } = pipe.model;
  const ids = tokenizer.encode([prompt, '']).inputIds;
  const encoded = await pipe.encode([prompt], '', 7.5);
  const [, l, d] = encoded.cond.dims;
  const s = unet.sampleSize;
  const latents = initialLatents([0], pipe.latentSize);
  const sample = new ort.Tensor('float32', new Float32Array(2 * latents.length), [2, unet.inChannels, s, s]);
  const context = new ort.Tensor('float32', new Float32Array(2 * l * d), [2, l, d]);
  const timestep = timestepTensor(unet, 1, 2);
  const latentIn = new ort.Tensor('float32', latents, [1, unet.inChannels, s, s]);

  const pipelineMs: number[] = [];
  const rawMs: number[] = [];
  for (let r = 0; r < repeats + 1; r++) {
    let t0 = performance.now();
    await pipe.generate({ prompts: [prompt], steps, seed: r });
    const p = performance.now() - t0;
    t0 = performance.now();
    await textEncoder.run({ [textEncoder.inputs[0].name]: inputIdsTensor(textEncoder, [ids[0]]) });
    await textEncoder.run({ [textEncoder.inputs[0].name]: inputIdsTensor(textEncoder, [ids[1]]) });
    for (let i = 0; i < steps; i++) {
      await unet.run({
        [unet.sampleInput]: sample,
        [unet.timestepInput]: timestep,
        [unet.contextInput]: context,
      });
    }
    await vaeDecoder.run({ [vaeDecoder.latentInput]: latentIn });
    const raw = performance.now() - t0;
    // The first round warms both paths up (session first-run allocations) and is not counted.
    if (r > 0) {
      pipelineMs.push(p);
      rawMs.push(raw);
    }
  }
  const pm = median(pipelineMs);
  const rm = median(rawMs);
  return { steps, repeats, pipelineMs: pm, rawOnnxMs: rm, overhead: (pm - rm) / pm };
}
