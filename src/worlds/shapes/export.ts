/**
 * Exports a trained shapes-model checkpoint in the diffusers / Optimum ONNX layout that the
 * text-to-image pipeline loads: tokenizer, text_encoder, unet, vae_encoder and vae_decoder (the
 * autoencoder whose latents the denoiser learnt, `scaling_factor` in their configs; an identity
 * vae_decoder for the first, pixel-space model), the DDIM scheduler config and model_index.json.
 * The ONNX graphs are the networks' own definitions with the EMA weights as initializers, their
 * only copy in the folder (models/ must stay small).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOnnx } from '../../graph/build.js';
import type { HostTensor } from '../../graph/params.js';
import { emaWeights, loadCheckpointDir } from '../../graph/trainer.js';
import { GraphBuilder } from '../../models/onnx-graph.js';
import {
  AUTOENCODER_CONFIG,
  type AutoencoderConfig,
  vaeDecoderGraph,
  vaeEncoderGraph,
} from './autoencoder.js';
import { weightsHash } from './latents.js';
import { type ModelConfig, textEncoderGraph, unetGraph } from './model.js';
import { SCHEDULER_CONFIG } from './model-schedule.js';
import { BOS_ID, EOS_ID, PAD_ID, SPECIAL_TOKENS, UNK_ID } from './model-tokenizer.js';
import { loadCheckpoint, type RunConfig } from './train.js';

/** Weights by dotted name ("text.layers.0.attn.q"), as a checkpoint's EMA tensors. */
export type Weights = ReadonlyMap<string, HostTensor>;

/** input_ids [batch, L] int64 -> last_hidden_state [batch, L, D]; padding masked from the ids. */
export function textEncoderOnnx(cfg: ModelConfig, weights: Weights): Uint8Array {
  const { graph, output } = textEncoderGraph(cfg);
  return buildOnnx(graph, { outputs: { last_hidden_state: output }, weights });
}

/** sample [batch, C, S, S], timestep [batch] int64 in [0, 1000), encoder_hidden_states -> out_sample (epsilon). */
export function unetOnnx(cfg: ModelConfig, weights: Weights): Uint8Array {
  const { graph, output } = unetGraph(cfg);
  return buildOnnx(graph, { outputs: { out_sample: output }, weights });
}

/** A pixel-space model's "VAE decoder" passes latents through. */
export function identityVaeOnnx(cfg: ModelConfig): Uint8Array {
  const g = new GraphBuilder('vae_decoder');
  const dims = ['batch', cfg.channels, cfg.imageSize, cfg.imageSize];
  const x = g.input('latent_sample', 'float32', dims);
  g.output('sample', 'float32', dims, x);
  return g.build();
}

/**
 * HF tokenizers JSON reproducing WordTokenizer: lower-case, strip what normalizeWords strips, split
 * on whitespace, look words up (unknown -> [UNK]), wrap in [BOS] ... [EOS], pad to maxTokens.
 */
export function tokenizerJson(vocab: readonly string[], maxTokens: number): object {
  const special = [SPECIAL_TOKENS.pad, SPECIAL_TOKENS.bos, SPECIAL_TOKENS.eos, SPECIAL_TOKENS.unk];
  const tokenSpec = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  return {
    version: '1.0',
    truncation: { direction: 'Right', max_length: maxTokens, strategy: 'LongestFirst', stride: 0 },
    padding: {
      strategy: { Fixed: maxTokens },
      direction: 'Right',
      pad_to_multiple_of: null,
      pad_id: PAD_ID,
      pad_type_id: 0,
      pad_token: SPECIAL_TOKENS.pad,
    },
    added_tokens: special.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: NORMALIZER,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        tokenSpec(SPECIAL_TOKENS.bos),
        { Sequence: { id: 'A', type_id: 0 } },
        tokenSpec(SPECIAL_TOKENS.eos),
      ],
      pair: [
        tokenSpec(SPECIAL_TOKENS.bos),
        { Sequence: { id: 'A', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
        tokenSpec(SPECIAL_TOKENS.eos),
      ],
      special_tokens: Object.fromEntries(
        [
          [SPECIAL_TOKENS.bos, BOS_ID],
          [SPECIAL_TOKENS.eos, EOS_ID],
        ].map(([t, id]) => [t, { id: t, ids: [id], tokens: [t] }]),
      ),
    },
    decoder: null,
    model: {
      type: 'WordLevel',
      vocab: Object.fromEntries(vocab.map((w, i) => [w, i])),
      unk_token: SPECIAL_TOKENS.unk,
    },
  };
}

/** Mirrors normalizeWords: lower case, then every run of characters but a-z and 0-9 separates words. */
const NORMALIZER = {
  type: 'Sequence',
  normalizers: [{ type: 'Lowercase' }, { type: 'Replace', pattern: { Regex: '[^a-z0-9]' }, content: ' ' }],
};

export function tokenizerConfigJson(maxTokens: number): object {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    model_max_length: maxTokens,
    pad_token: SPECIAL_TOKENS.pad,
    bos_token: SPECIAL_TOKENS.bos,
    eos_token: SPECIAL_TOKENS.eos,
    unk_token: SPECIAL_TOKENS.unk,
    padding_side: 'right',
    do_lower_case: true,
    clean_up_tokenization_spaces: false,
  };
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** The autoencoder's halves as Optimum exports them, configs as diffusers' AutoencoderKL. */
function writeAutoencoder(
  out: string,
  cfg: AutoencoderConfig,
  weights: Weights,
  scalingFactor: number,
): void {
  const config = {
    _class_name: 'AutoencoderKL',
    in_channels: 3,
    out_channels: 3,
    latent_channels: cfg.latentChannels,
    sample_size: cfg.imageSize,
    scaling_factor: scalingFactor,
    block_out_channels: cfg.widths,
    down_block_layers: cfg.encoderBlocks,
    up_block_layers: cfg.decoderBlocks,
  };
  const enc = vaeEncoderGraph(cfg);
  const dec = vaeDecoderGraph(cfg);
  for (const [dir, bytes] of [
    ['vae_encoder', buildOnnx(enc.graph, { outputs: { latent_sample: enc.output }, weights })],
    ['vae_decoder', buildOnnx(dec.graph, { outputs: { sample: dec.output }, weights })],
  ] as const) {
    mkdirSync(join(out, dir), { recursive: true });
    writeFileSync(join(out, dir, 'model.onnx'), bytes);
    writeJson(join(out, dir, 'config.json'), config);
  }
}

/** The EMA weights of the autoencoder a latent run names, checked against the hash it recorded. */
export function runAutoencoder(run: RunConfig): { cfg: AutoencoderConfig; weights: Weights } | null {
  if (!run.autoencoder) return null;
  const { dir, weights: hash } = run.autoencoder;
  const weights = emaWeights(loadCheckpointDir(dir).tensors);
  const found = weightsHash(weights);
  if (found !== hash) throw new Error(`${dir}: autoencoder weights ${found}, the run was trained on ${hash}`);
  return { cfg: AUTOENCODER_CONFIG.parse(run.autoencoder.model), weights };
}

/**
 * Writes the whole model directory from a run config and its (EMA) weights; a latent run also
 * needs its autoencoder's weights (`runAutoencoder`).
 */
export function exportModel(
  run: RunConfig,
  weights: Weights,
  out: string,
  autoencoder: Weights | null = runAutoencoder(run)?.weights ?? null,
): void {
  const cfg = run.model;
  for (const dir of ['tokenizer', 'text_encoder', 'unet', 'scheduler'])
    mkdirSync(join(out, dir), { recursive: true });
  writeJson(join(out, 'model_index.json'), {
    _class_name: 'StableDiffusionPipeline',
    _diffusers_version: '0.30.0',
    text_encoder: ['adadiff', 'ShapesTextEncoder'],
    tokenizer: ['transformers', 'PreTrainedTokenizerFast'],
    unet: ['adadiff', 'ShapesUNet'],
    ...(run.autoencoder
      ? { vae_encoder: ['adadiff', 'ShapesAutoencoderKL'], vae_decoder: ['adadiff', 'ShapesAutoencoderKL'] }
      : { vae_decoder: ['adadiff', 'ShapesIdentityVae'] }),
    scheduler: ['diffusers', 'DDIMScheduler'],
    safety_checker: [null, null],
    feature_extractor: [null, null],
    requires_safety_checker: false,
  });
  writeJson(join(out, 'tokenizer', 'tokenizer.json'), tokenizerJson(run.vocab, cfg.maxTokens));
  writeJson(join(out, 'tokenizer', 'tokenizer_config.json'), tokenizerConfigJson(cfg.maxTokens));
  writeFileSync(join(out, 'text_encoder', 'model.onnx'), textEncoderOnnx(cfg, weights));
  writeJson(join(out, 'text_encoder', 'config.json'), {
    hidden_size: cfg.textDim,
    num_hidden_layers: cfg.textLayers,
    num_attention_heads: cfg.textHeads,
    max_position_embeddings: cfg.maxTokens,
    vocab_size: cfg.vocabSize,
    pad_token_id: PAD_ID,
    bos_token_id: BOS_ID,
    eos_token_id: EOS_ID,
    unk_token_id: UNK_ID,
  });
  writeFileSync(join(out, 'unet', 'model.onnx'), unetOnnx(cfg, weights));
  writeJson(join(out, 'unet', 'config.json'), {
    _class_name: 'ShapesUNet',
    sample_size: cfg.imageSize,
    in_channels: cfg.channels,
    out_channels: cfg.channels,
    cross_attention_dim: cfg.textDim,
    block_out_channels: cfg.widths,
    mid_transformer_blocks: cfg.midBlocks,
    num_attention_heads: cfg.heads,
  });
  if (run.autoencoder) {
    if (!autoencoder) throw new Error('a latent model needs its autoencoder weights to export');
    writeAutoencoder(
      out,
      AUTOENCODER_CONFIG.parse(run.autoencoder.model),
      autoencoder,
      run.autoencoder.scalingFactor,
    );
  } else {
    mkdirSync(join(out, 'vae_decoder'), { recursive: true });
    writeFileSync(join(out, 'vae_decoder', 'model.onnx'), identityVaeOnnx(cfg));
    writeJson(join(out, 'vae_decoder', 'config.json'), {
      _class_name: 'AutoencoderKL',
      in_channels: cfg.channels,
      out_channels: cfg.channels,
      latent_channels: cfg.channels,
      sample_size: cfg.imageSize,
      scaling_factor: 1.0,
      block_out_channels: [64],
    });
  }
  writeJson(join(out, 'scheduler', 'scheduler_config.json'), SCHEDULER_CONFIG);
  writeJson(join(out, 'config.json'), { model: cfg, vocab: run.vocab, seed: run.seed });
}

/** Exports a training checkpoint's EMA weights; returns the step it was taken at. */
export function exportCheckpoint(checkpointDir: string, out: string): number {
  const { run, step, tensors } = loadCheckpoint(checkpointDir);
  exportModel(run, emaWeights(tensors), out);
  return step;
}
