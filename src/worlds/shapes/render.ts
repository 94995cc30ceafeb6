/**
 * Scene to image: flat colours on a plain dark background, anti-aliased analytically (see
 * geometry.ts), RGB float32 in CHW layout with values in [0, 1].
 */
import { Rng } from '../../util/random.js';
import { objectAlpha } from './geometry.js';
import { layoutScene, type Placement } from './layout.js';
import { BACKGROUND, PALETTE } from './palette.js';
import { canonicalScene, type Scene } from './scene.js';

/** Render a scene at size x size. The rng draws the layout; without one it comes from the scene. */
export function render(scene: Scene, size: number, rng?: Rng): Float32Array {
  return renderPlacements(layoutScene(scene, rng ?? new Rng(sceneSeed(scene))), size);
}

/** Render already placed objects (later objects are drawn over earlier ones). */
export function renderPlacements(placements: readonly Placement[], size: number): Float32Array {
  const plane = size * size;
  const img = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) img.fill(BACKGROUND[c], c * plane, (c + 1) * plane);
  for (const p of placements) {
    const colour = PALETTE[p.object.colour];
    const pixel = 1 / (size * p.s);
    // Only pixels within the unit frame's [-0.55, 0.55] box can be touched.
    const reach = 0.55 * p.s * size + 1;
    const i0 = Math.max(0, Math.floor(p.cx * size - reach));
    const i1 = Math.min(size - 1, Math.ceil(p.cx * size + reach));
    const j0 = Math.max(0, Math.floor(p.cy * size - reach));
    const j1 = Math.min(size - 1, Math.ceil(p.cy * size + reach));
    for (let j = j0; j <= j1; j++) {
      const v = ((j + 0.5) / size - p.cy) / p.s;
      for (let i = i0; i <= i1; i++) {
        const u = ((i + 0.5) / size - p.cx) / p.s;
        const a = objectAlpha(p.object.shape, p.object.detail, u, v, pixel);
        if (a === 0) continue;
        const k = j * size + i;
        for (let c = 0; c < 3; c++) img[c * plane + k] += a * (colour[c] - img[c * plane + k]);
      }
    }
  }
  return img;
}

/** A stable seed from a scene's meaning, so an rng-less render is reproducible. */
export function sceneSeed(scene: Scene): number {
  const text = JSON.stringify(canonicalScene(scene));
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
