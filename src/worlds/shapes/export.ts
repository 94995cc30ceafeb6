/**
 * Exports a trained shapes-model checkpoint in the diffusers / Optimum ONNX layout that the
 * text-to-image pipeline loads: tokenizer, text_encoder, unet, an identity vae_decoder (the model
 * works in pixel space), the DDIM scheduler config, model_index.json, and the EMA weights.
 * The ONNX graphs restate model.ts op by op; test/worlds/shapes/model.test.ts holds them equal.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type HostTensor, saveSafetensors } from '../../engine/index.js';
import { GraphBuilder } from '../../models/onnx-graph.js';
import { WeightsGraph } from '../../models/weights-graph.js';
import type { ModelConfig } from './model.js';
import { alphasCumprod, SCHEDULE } from './model-schedule.js';
import { BOS_ID, EOS_ID, PAD_ID, SPECIAL_TOKENS, UNK_ID } from './model-tokenizer.js';
import { loadCheckpoint, type RunConfig } from './train.js';

/** Weights by dotted name ("text.layers.0.attn.q"), as `toHost` of the model's params. */
export type Weights = Map<string, HostTensor>;

/** Graph-building helpers over model.ts's parameter names. */
class ModelGraph extends WeightsGraph {
  mlp(x: string, prefix: string): string {
    const h = this.gelu(this.linear(x, this.w(`${prefix}.w1`), this.w(`${prefix}.b1`)));
    return this.linear(h, this.w(`${prefix}.w2`), this.w(`${prefix}.b2`));
  }

  attn(x: string, context: string, prefix: string, heads: number, dim: number, bias?: string): string {
    const w = {
      q: this.w(`${prefix}.q`),
      k: this.w(`${prefix}.k`),
      v: this.w(`${prefix}.v`),
      o: this.w(`${prefix}.o`),
      oBias: this.w(`${prefix}.oBias`),
    };
    return this.attention(x, context, w, heads, dim, bias);
  }

  /** model.ts's conv3x3 on an NHWC map, as NCHW ONNX Conv between transposes. */
  convNhwc(x: string, prefix: string): string {
    const nchw = this.node('Transpose', [x], { perm: [0, 3, 1, 2] });
    return this.node('Transpose', [this.conv(nchw, prefix)], { perm: [0, 2, 3, 1] });
  }

  /** model.ts `residual`: x [B, H, W, Cin], temb [B, T] after SiLU. */
  residual(x: string, temb: string, prefix: string): string {
    let h = this.convNhwc(this.silu(this.norm(x, `${prefix}.ln1`)), `${prefix}.conv1`);
    const t = this.affine(temb, `${prefix}.time`);
    h = this.node('Add', [h, this.node('Unsqueeze', [t, this.ints([1, 2])])]);
    h = this.convNhwc(this.silu(this.norm(h, `${prefix}.ln2`)), `${prefix}.conv2`);
    const skip = this.weights.has(`${prefix}.skip.w`) ? this.affine(x, `${prefix}.skip`) : x;
    return this.node('Add', [skip, h]);
  }

  /** model.ts `pixelUnshuffle` of a [B, side, side, C] map. */
  pixelUnshuffle(x: string, side: number, c: number): string {
    const split = this.node('Reshape', [x, this.ints([-1, side / 2, 2, side / 2, 2, c])]);
    const moved = this.node('Transpose', [split], { perm: [0, 1, 3, 2, 4, 5] });
    return this.node('Reshape', [moved, this.ints([-1, side / 2, side / 2, 4 * c])]);
  }

  /** model.ts `pixelShuffle` of a [B, side, side, 4C] map. */
  pixelShuffle(x: string, side: number, c: number): string {
    const split = this.node('Reshape', [x, this.ints([-1, side, side, 2, 2, c])]);
    const moved = this.node('Transpose', [split], { perm: [0, 1, 3, 2, 4, 5] });
    return this.node('Reshape', [moved, this.ints([-1, 2 * side, 2 * side, c])]);
  }
}

/** input_ids [batch, L] int64 -> last_hidden_state [batch, L, D]; padding masked from the ids. */
export function textEncoderOnnx(cfg: ModelConfig, weights: Weights): Uint8Array {
  const g = new ModelGraph('text_encoder', weights);
  const l = cfg.maxTokens;
  const ids = g.input('input_ids', 'int64', ['batch', l]);
  const isPad = g.node('Cast', [g.node('Equal', [ids, g.constant(BigInt64Array.of(BigInt(PAD_ID)), [])])], {
    to: 1,
  });
  const bias = g.node('Unsqueeze', [g.node('Mul', [isPad, g.scalar(-1e9)]), g.ints([1, 2])]);
  let x = g.node('Add', [g.node('Gather', [g.w('text.tok'), ids], { axis: 0 }), g.w('text.pos')]);
  for (let i = 0; i < cfg.textLayers; i++) {
    const p = `text.layers.${i}`;
    const h = g.norm(x, `${p}.ln1`);
    x = g.node('Add', [x, g.attn(h, h, `${p}.attn`, cfg.textHeads, cfg.textDim, bias)]);
    x = g.node('Add', [x, g.mlp(g.norm(x, `${p}.ln2`), `${p}.mlp`)]);
  }
  g.output('last_hidden_state', 'float32', ['batch', l, cfg.textDim], g.norm(x, 'text.lnOut'));
  return g.build();
}

/**
 * sample [batch, C, S, S], timestep [batch] int64 in [0, 1000), encoder_hidden_states -> out_sample
 * (epsilon, from the network's v as in model.ts `denoise`). Feature maps stay NHWC as in model.ts,
 * transposed to NCHW around each Conv.
 */
export function unetOnnx(cfg: ModelConfig, weights: Weights): Uint8Array {
  const g = new ModelGraph('unet', weights);
  const { channels: c, imageSize: s, widths } = cfg;
  const sample = g.input('sample', 'float32', ['batch', c, s, s]);
  const timestep = g.input('timestep', 'int64', ['batch']);
  const context = g.input('encoder_hidden_states', 'float32', ['batch', cfg.maxTokens, cfg.textDim]);

  const half = cfg.timeFreqDim / 2;
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) freqs[i] = Math.exp((-Math.log(10000) * i) / half);
  const args = g.node('Mul', [
    g.node('Unsqueeze', [g.node('Cast', [timestep], { to: 1 }), g.ints([1])]),
    g.constant(freqs, [1, half]),
  ]);
  const tFreq = g.node('Concat', [g.node('Cos', [args]), g.node('Sin', [args])], { axis: -1 });
  const temb = g.silu(g.mlp(tFreq, 'unet.time'));

  let h = g.convNhwc(g.node('Transpose', [sample], { perm: [0, 2, 3, 1] }), 'unet.convIn');
  const skips: string[] = [];
  widths.forEach((_, i) => {
    h = g.residual(h, temb, `unet.down.${i}`);
    if (i < widths.length - 1) {
      skips.push(h);
      h = g.affine(g.pixelUnshuffle(h, s >> i, widths[i]), `unet.downsample.${i}`);
    }
  });
  const low = widths[widths.length - 1];
  const side = s >> (widths.length - 1);
  let tokens = g.node('Add', [g.node('Reshape', [h, g.ints([0, side * side, low])]), g.w('unet.pos')]);
  for (let i = 0; i < cfg.midBlocks; i++) {
    const b = `unet.mid.${i}`;
    const a = g.norm(tokens, `${b}.ln1`);
    tokens = g.node('Add', [tokens, g.attn(a, a, `${b}.attn`, cfg.heads, low)]);
    tokens = g.node('Add', [
      tokens,
      g.attn(g.norm(tokens, `${b}.ln2`), context, `${b}.cross`, cfg.heads, low),
    ]);
    tokens = g.node('Add', [tokens, g.mlp(g.norm(tokens, `${b}.ln3`), `${b}.mlp`)]);
  }
  h = g.node('Reshape', [tokens, g.ints([0, side, side, low])]);
  for (let i = 0; i < widths.length - 1; i++) {
    const level = widths.length - 2 - i;
    const w = widths[level];
    const levelSide = s >> level;
    h = g.pixelShuffle(g.affine(h, `unet.upsample.${i}`), levelSide / 2, w);
    h = g.residual(g.node('Concat', [h, skips.pop() as string], { axis: -1 }), temb, `unet.up.${i}`);
    if (i === 0) {
      const flat = g.node('Reshape', [h, g.ints([0, levelSide * levelSide, w])]);
      const crossed = g.attn(g.norm(flat, 'unet.upCross.ln'), context, 'unet.upCross.cross', cfg.heads, w);
      h = g.node('Reshape', [g.node('Add', [flat, crossed]), g.ints([0, levelSide, levelSide, w])]);
    }
  }
  const v = g.node('Transpose', [g.convNhwc(g.silu(g.norm(h, 'unet.lnOut')), 'unet.convOut')], {
    perm: [0, 3, 1, 2],
  });
  // ε = √ᾱ_t·v + √(1−ᾱ_t)·x_t, the coefficients gathered from the schedule by timestep.
  const abar = alphasCumprod();
  const coefficient = (values: Float32Array) =>
    g.node('Reshape', [
      g.node('Gather', [g.constant(values, [values.length]), timestep], { axis: 0 }),
      g.ints([-1, 1, 1, 1]),
    ]);
  const signal = coefficient(Float32Array.from(abar, Math.sqrt));
  const noise = coefficient(Float32Array.from(abar, (a) => Math.sqrt(1 - a)));
  const epsilon = g.node('Add', [g.node('Mul', [v, signal]), g.node('Mul', [sample, noise])]);
  g.output('out_sample', 'float32', ['batch', c, s, s], epsilon);
  return g.build();
}

/** The model works in pixel space: the "VAE decoder" passes latents through. */
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

export function schedulerConfig(): object {
  return {
    _class_name: 'DDIMScheduler',
    num_train_timesteps: SCHEDULE.trainSteps,
    beta_start: SCHEDULE.betaStart,
    beta_end: SCHEDULE.betaEnd,
    beta_schedule: 'scaled_linear',
    prediction_type: 'epsilon',
    set_alpha_to_one: false,
    steps_offset: 1,
    timestep_spacing: 'leading',
    clip_sample: false,
    trained_betas: null,
  };
}

/** Weights of one sub-model with its prefix removed ("text.tok" -> "tok"). */
function subset(weights: Weights, prefix: string): Weights {
  return new Map(
    [...weights].filter(([k]) => k.startsWith(`${prefix}.`)).map(([k, v]) => [k.slice(prefix.length + 1), v]),
  );
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes the whole model directory from a run config and its (EMA) weights. */
export function exportModel(run: RunConfig, weights: Weights, out: string): void {
  const cfg = run.model;
  for (const dir of ['tokenizer', 'text_encoder', 'unet', 'vae_decoder', 'scheduler'])
    mkdirSync(join(out, dir), { recursive: true });
  writeJson(join(out, 'model_index.json'), {
    _class_name: 'StableDiffusionPipeline',
    _diffusers_version: '0.30.0',
    text_encoder: ['adadiff', 'ShapesTextEncoder'],
    tokenizer: ['transformers', 'PreTrainedTokenizerFast'],
    unet: ['adadiff', 'ShapesUNet'],
    vae: ['diffusers', 'AutoencoderKL'],
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
  writeJson(join(out, 'scheduler', 'scheduler_config.json'), schedulerConfig());
  saveSafetensors(join(out, 'text_encoder', 'model.safetensors'), subset(weights, 'text'));
  saveSafetensors(join(out, 'unet', 'model.safetensors'), subset(weights, 'unet'));
  writeJson(join(out, 'config.json'), { model: cfg, vocab: run.vocab, seed: run.seed });
}

/** Exports a training checkpoint's EMA weights; returns the step it was taken at. */
export function exportCheckpoint(checkpointDir: string, out: string): number {
  const { run, step, tensors } = loadCheckpoint(checkpointDir);
  const ema: Weights = new Map(
    [...tensors].filter(([k]) => k.startsWith('ema.')).map(([k, v]) => [k.slice(4), v]),
  );
  exportModel(run, ema, out);
  return step;
}
