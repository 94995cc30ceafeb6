import sharp from 'sharp';

/** An RGB image as the pipeline produces it: planar (CHW) float32 values in [0, 1]. */
export interface RgbImage {
  width: number;
  height: number;
  /** Length 3 * height * width, channel-major (R plane, then G, then B). */
  chw: Float32Array;
}

/** Interleaved 8-bit RGB (HWC), the layout image files use. */
export function toRgb8(image: RgbImage): Uint8Array {
  const { width, height, chw } = image;
  const plane = width * height;
  const out = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = chw[c * plane + i];
      out[i * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return out;
}

/** Encode as PNG; `scale` > 1 enlarges with nearest-neighbour so tiny images stay legible. */
export async function encodePng(image: RgbImage, scale = 1): Promise<Buffer> {
  let img = sharp(Buffer.from(toRgb8(image)), {
    raw: { width: image.width, height: image.height, channels: 3 },
  });
  if (scale > 1) img = img.resize(image.width * scale, image.height * scale, { kernel: 'nearest' });
  return img.png().toBuffer();
}

/** Read a PNG/JPEG/WebP file into the pipeline's image layout. */
export async function readImage(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const plane = info.width * info.height;
  const chw = new Float32Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) chw[c * plane + i] = data[i * info.channels + c] / 255;
  }
  return { width: info.width, height: info.height, chw };
}
