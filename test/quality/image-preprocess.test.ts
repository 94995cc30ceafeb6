import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ImagePreprocess,
  preprocessImage,
  type ResizeKernel,
} from '../../src/quality/image-preprocess.js';
import type { RgbImage } from '../../src/util/image.js';

/**
 * Pillow 12.3's output (RGB bytes, hex) for the test images below: Image.resize(size, filter), and for
 * "crop" torchvision's Resize(size, BICUBIC) + CenterCrop(size) arithmetic on Image.resize + crop.
 */
const PIL: Record<string, string> = {
  'bicubic 9x7->4x3': '6785948b90968c8f8b827b6b809878947f7b896e957c799267a6988e70a7897d8697788b',
  'bicubic 4x3->7x6':
    '002a5f02376b194e822e62a44379c45a9fdb66b4e70f417c1a508b336ea54d899f679999808fb28e88c13e71b84c87d16bb1ed8fdb95b3dd3dd16e59e12c7271aba285a7bda9a6dfaacc8babd737ce6d59e22d73a2e73cbead54e54e7b9b5e824f8888768daf938dc6b9ff0cd9b022ff254c932a7d2463ae4d9bd86dbaee',
  'bicubic 16x8->7x7':
    '245d8d75a3c9ac986b41477a63a3a4bba32e3d3e7c99b1a6a07b686a8dacb2905d5b70a8af9b6354558c9278608e94869d69808198816f79799e8d586c6daa61a387917077825fa6796e9373808b9a7f4784868a83bc7f9a70a5769a839d6bad919488957b8c9ca268518faf8573a99c658388907a61a452897ab0b46786a87ab2b472a7bc6ba4b5779eb1769cb773a7c4659d',
  'bilinear 9x7->4x3': '6b88938a8c958b8d89837c6e7a957c947e808974947c778f6da2968e74a3897f8696788b',
  'bilinear 4x3->7x6':
    '00356a0d427722578c386da24d82b76297cc6fa4d9174c81255a8f3c71a654899e6b9b95818dab9085ba4479ae558abf6fa4d98bc095a6cc50c07a6ad1467b72a79c85a3afa39dcda2b78ca0c74abe7868d2477c9fd449b5a55fd75a81996e835b8b857d89a79388bdb6eb20cda637f1385b954a7f386da25c91c673a8dd',
  'bilinear 16x8->7x7':
    '3065917699bb9e95714f557b67989dada13b44447993a99e9d7e74758ba0a38d6965749ea4986359598e8f8068908b8497708584918170787e9b8f5a6e6ea36a9f8291748081699e7d7294787a8797865184848a7db28498769e7c91889571a68f8e849383899999715a8faa8775a7956e8789887e6f9d5b8a7fa9ae6b86a37cb1b470a5b86ca1b3779dad7999b276a9c3669b',
  'nearest 9x7->4x3': '8dc2f7f1265b558abfb9ee235d92c7f52a5f8dc2f7255a8f2d6297f92e63c5fa2f91c6fb',
  'nearest 4x3->7x6':
    '00356a00356a255a8f255a8f4a7fb46fa4d96fa4d900356a00356a255a8f255a8f4a7fb46fa4d96fa4d95b90c55b90c58dc2f78dc2f7bff429f1265bf1265b5b90c55b90c58dc2f78dc2f7bff429f1265bf1265bb6eb20b6eb20f52a5ff52a5f34699e73a8dd73a8ddb6eb20b6eb20f52a5ff52a5f34699e73a8dd73a8dd',
  'nearest 16x8->7x7':
    '255a8f6fa4d9b9ee2303386d72a7dcbcf126063b708dc2f7f1265b558abfb9ee234f84b9b3e81d174c81f52a5f73a8ddf1265b6fa4d92c6196aadf14285d925d92c7f52a5f8dc2f7255a8f093e73a1d60b396ea32d6297f92e63c5fa2f91c6fbc3f82d8fc4f95b90c595caff7bb0e56196cb477cb1a0d50a86bbf06ca1d6fd3267fd3267fd3267fd32677db2e77db2e77db2e7',
  'crop 11x7->5':
    '6d9996858ec79ab27d815a5f495585998b858f8b738b6a8777b4a6c07d438e9c5d9c6a83917aab783e817eb6956b96a0a858956b917c9075ab8b65a85381beb06a9e9a807f7d6492959e6e',
  'crop 7x12->4':
    '858d79928b7292807f90619b73b781778ba19e63896f8e928782ab8b76b1b0719f9e6d88914d8898609c55856c7f6364',
};

/** An 8-bit image with detail everywhere, exactly representable so quantising changes nothing. */
function testImage(width: number, height: number): RgbImage {
  const plane = width * height;
  const chw = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        chw[c * plane + y * width + x] = ((x * 37 + y * 91 + c * 53 + x * y * 13) % 256) / 255;
  return { width, height, chw };
}

/** preprocessImage with identity normalisation, back to 8-bit HWC bytes as hex. */
function ourBytes(image: RgbImage, p: Omit<ImagePreprocess, 'mean' | 'std'>): string {
  const chw = preprocessImage(image, { ...p, mean: [0, 0, 0], std: [1, 1, 1] });
  const plane = p.width * p.height;
  const hwc = Uint8Array.from({ length: 3 * plane }, (_, i) =>
    Math.round(chw[(i % 3) * plane + Math.floor(i / 3)] * 255),
  );
  return Buffer.from(hwc).toString('hex');
}

test("bicubic, bilinear and nearest resizes equal Pillow's byte for byte, shrinking and enlarging", () => {
  for (const kernel of ['bicubic', 'bilinear', 'nearest'] as ResizeKernel[]) {
    for (const [[w, h], [ow, oh]] of [
      [
        [9, 7],
        [4, 3],
      ],
      [
        [4, 3],
        [7, 6],
      ],
      [
        [16, 8],
        [7, 7],
      ],
    ]) {
      const key = `${kernel} ${w}x${h}->${ow}x${oh}`;
      assert.equal(
        ourBytes(testImage(w, h), { width: ow, height: oh, resize: kernel, crop: 'none' }),
        PIL[key],
        key,
      );
    }
  }
});

test('centre crop: the shorter side becomes the size, the longer is floored, the middle is kept', () => {
  // 11x7 -> 7x5, crop x 1..5; 7x12 -> 4x6, crop y 1..4.
  for (const [w, h, s] of [
    [11, 7, 5],
    [7, 12, 4],
  ]) {
    const key = `crop ${w}x${h}->${s}`;
    assert.equal(
      ourBytes(testImage(w, h), { width: s, height: s, resize: 'bicubic', crop: 'center' }),
      PIL[key],
      key,
    );
  }
});

test('normalises per channel, planar', () => {
  const image: RgbImage = { width: 1, height: 2, chw: Float32Array.of(0, 1, 0.2, 0.4, 1, 0) };
  const out = preprocessImage(image, {
    width: 1,
    height: 2,
    resize: 'bicubic',
    crop: 'center',
    mean: [0.5, 0.25, 0],
    std: [0.5, 2, 1],
  });
  const expected = [-1, 1, (51 / 255 - 0.25) / 2, (102 / 255 - 0.25) / 2, 1, 0];
  for (const [i, v] of out.entries())
    assert.ok(Math.abs(v - expected[i]) < 1e-6, `${i}: ${v} vs ${expected[i]}`);
});
