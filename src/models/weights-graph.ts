/**
 * A GraphBuilder over a trained network's weights by dotted name ("text.layers.0.attn.q"), as the
 * training engine's `toHost` gives them: the exporters of this repo's own networks restate their
 * forward passes with these helpers, one initializer per weight.
 */
import { GraphBuilder } from './onnx-graph.js';

export type NamedWeights = Map<string, { data: Float32Array; shape: number[] }>;

export class WeightsGraph extends GraphBuilder {
  private readonly added = new Set<string>();

  constructor(
    name: string,
    protected readonly weights: NamedWeights,
  ) {
    super(name);
  }

  private tensor(name: string): { data: Float32Array; shape: number[] } {
    const t = this.weights.get(name);
    if (!t) throw new Error(`export: the weights have no tensor "${name}"`);
    return t;
  }

  /** The named weight as an initializer, added on first use. */
  w(name: string): string {
    if (!this.added.has(name)) {
      const t = this.tensor(name);
      this.initializer(name, t.data, t.shape);
      this.added.add(name);
    }
    return name;
  }

  /** LayerNormalization from `${prefix}.scale` and `${prefix}.bias`. */
  norm(x: string, prefix: string): string {
    return this.layerNorm(x, this.w(`${prefix}.scale`), this.w(`${prefix}.bias`));
  }

  /** x @ `${prefix}.w` + `${prefix}.b`. */
  affine(x: string, prefix: string): string {
    return this.linear(x, this.w(`${prefix}.w`), this.w(`${prefix}.b`));
  }

  /** The engine's conv3x3 (`${prefix}.w` in im2col layout, `${prefix}.b`) on an NCHW map. */
  conv(x: string, prefix: string): string {
    const name = `${prefix}.w`;
    return this.conv3x3(x, name, this.tensor(name), this.w(`${prefix}.b`));
  }
}
