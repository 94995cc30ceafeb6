import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitAggd, gamma } from '../../../src/quality/metrics/aggd.js';
import { type GrayImage, imresize } from '../../../src/quality/metrics/matlab-imresize.js';
import {
  fitNiqeModel,
  mscn,
  niqe,
  niqePatchFeatures,
  niqePristineModel,
  rgbToGray,
} from '../../../src/quality/metrics/niqe.js';
import type { RgbImage } from '../../../src/util/image.js';
import { Rng } from '../../../src/util/random.js';

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);

function gray(width: number, height: number, at: (x: number, y: number) => number): GrayImage {
  const data = new Float64Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = at(x, y);
  return { width, height, data };
}

/** Integer arithmetic only, so reference.py makes the same pixels (its test_image). */
const referenceImage = (width: number, height: number) =>
  gray(width, height, (x, y) => {
    const v =
      40 +
      ((x * (200 - x) + y * (150 - y)) >> 7) +
      ((x ^ y) & 15) +
      ((x * x + 3 * y * y) % 23) +
      (2 * x > 3 * y ? 35 : 0);
    return Math.min(255, Math.max(0, v));
  });

/**
 * A natural-looking texture: value noise over octaves 64 .. 1 px with amplitude proportional to the
 * scale, i.e. the 1/f amplitude spectrum of natural images, stretched to [16, 240] and rounded.
 */
function naturalImage(size: number, seed: number): GrayImage {
  const rng = new Rng(seed);
  const data = new Float64Array(size * size);
  for (let s = 64; s >= 1; s /= 2) {
    const gw = Math.ceil(size / s) + 2;
    const grid = Float64Array.from({ length: gw * gw }, () => rng.normal());
    const at = (gx: number, gy: number) => grid[gy * gw + gx];
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const [ix, iy] = [Math.floor(x / s), Math.floor(y / s)];
        const smooth = (f: number) => f * f * (3 - 2 * f);
        const [fx, fy] = [smooth(x / s - ix), smooth(y / s - iy)];
        const top = (1 - fx) * at(ix, iy) + fx * at(ix + 1, iy);
        const bottom = (1 - fx) * at(ix, iy + 1) + fx * at(ix + 1, iy + 1);
        data[y * size + x] += s * ((1 - fy) * top + fy * bottom);
      }
  }
  const [min, max] = [Math.min(...data), Math.max(...data)];
  return {
    width: size,
    height: size,
    data: data.map((v) => Math.round(16 + (224 * (v - min)) / (max - min))),
  };
}

function blurred(image: GrayImage, sigma: number): GrayImage {
  const r = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  const { width: w, height: h } = image;
  const c = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  const pass = (src: Float64Array, dx: number, dy: number) =>
    src.map((_, i) => {
      const [x, y] = [i % w, Math.floor(i / w)];
      return (
        k.reduce((s, kv, j) => s + kv * src[c(y + (j - r) * dy, h) * w + c(x + (j - r) * dx, w)], 0) / sum
      );
    });
  return { ...image, data: pass(pass(image.data, 1, 0), 0, 1).map(Math.round) };
}

function noisy(image: GrayImage, sigma: number, seed: number): GrayImage {
  const rng = new Rng(seed);
  return {
    ...image,
    data: image.data.map((v) => Math.min(255, Math.max(0, Math.round(v + sigma * rng.normal())))),
  };
}

/** Marsaglia-Tsang, with the a < 1 boost Γ(a) = Γ(a + 1)·U^(1/a). */
function gammaVariate(rng: Rng, a: number): number {
  if (a < 1) return gammaVariate(rng, a + 1) * rng.uniform() ** (1 / a);
  const d = a - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v ** 3;
    if (Math.log(rng.uniform()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** AGGD draws: side left with probability β_l/(β_l + β_r), magnitude β·G^(1/α) with G ~ Gamma(1/α). */
function aggdSamples(count: number, alpha: number, betaLeft: number, betaRight: number, seed: number) {
  const rng = new Rng(seed);
  return Float64Array.from({ length: count }, () => {
    const m = gammaVariate(rng, 1 / alpha) ** (1 / alpha);
    return rng.uniform() < betaLeft / (betaLeft + betaRight) ? -betaLeft * m : betaRight * m;
  });
}

test('gamma function: exact values to ~1e-14 relative', () => {
  const rel = (x: number, expected: number, what: string) => close(x / expected, 1, 1e-14, what);
  rel(gamma(5), 24, 'Γ(5)');
  rel(gamma(0.5), Math.sqrt(Math.PI), 'Γ(1/2)');
  rel(gamma(2.5), 0.75 * Math.sqrt(Math.PI), 'Γ(5/2)');
  rel(gamma(15), 87178291200, 'Γ(15)');
  rel(gamma(0.1), 9.513507698668732, 'Γ(0.1)');
});

test('the AGGD fit recovers the shape and scales of generalized Gaussian samples', () => {
  for (const [alpha, bl, br] of [
    [0.5, 1, 1],
    [1, 1, 1],
    [2, 1, 1],
    [4, 0.3, 0.3],
    [1.5, 0.5, 1.2],
    [0.8, 2, 0.7],
  ]) {
    const fit = fitAggd(aggdSamples(50000, alpha, bl, br, Math.round(alpha * 100)));
    close(fit.alpha, alpha, 0.04 * alpha, `α of (${alpha}, ${bl}, ${br})`);
    // β comes from a second moment, which α = 0.5's heavy tails make the noisiest (3.5% off here).
    close(fit.betaLeft, bl, 0.05 * bl, `β_l of (${alpha}, ${bl}, ${br})`);
    close(fit.betaRight, br, 0.05 * br, `β_r of (${alpha}, ${bl}, ${br})`);
  }
  // A side without samples: β NaN, α the table's first entry, as MATLAB's min over NaNs gives.
  const oneSided = fitAggd([1, 2, 3]);
  assert.equal(oneSided.alpha, 0.2);
  assert.ok(Number.isNaN(oneSided.betaLeft));
});

test('imresize(·, 0.5): bicubic with antialiasing, mirrored borders (worked by hand)', () => {
  // Output 1 sits at input 1.5; weights ½·cubic(½·d) at d = ±0.5, ±1.5, ±2.5, ±3.5 are
  // 0.43359375, 0.11328125, -0.03515625, -0.01171875; mirrored: 0.546875a + 0.3984375b + 0.1015625c - 0.046875d.
  const out = imresize({ width: 4, height: 1, data: Float64Array.of(1, 2, 3, 4) }, 0.5);
  assert.deepEqual([out.width, out.height], [2, 1]);
  assert.deepEqual([...out.data], [1.4609375, 3.5390625]);
  const flat = imresize(
    gray(7, 5, () => 42),
    0.5,
  );
  assert.deepEqual([flat.width, flat.height], [4, 3]);
  assert.ok(flat.data.every((v) => Math.abs(v - 42) < 1e-12));
});

test('imresize matches the NumPy transcription of imresize.m (reference.py) on a 9x7 image', () => {
  const expected = [
    53.512359619140625, 88.94992065429688, 98.35885620117188, 100.71408081054688, 111.2498779296875,
    52.3128662109375, 63.56809997558594, 90.39509582519531, 103.34326171875, 115.4722900390625,
    55.140106201171875, 64.52923583984375, 66.37089538574219, 80.34541320800781, 110.40838623046875,
    69.2333984375, 66.51095581054688, 66.56671142578125, 69.67105102539062, 83.6138916015625,
  ];
  const out = imresize(referenceImage(9, 7), 0.5);
  assert.deepEqual([out.width, out.height], [5, 4]);
  out.data.forEach((v, i) => {
    close(v, expected[i], 1e-12, `pixel ${i}`);
  });
});

test("rgbToGray: MATLAB rgb2gray of the 8-bit image, rounded (rgb2gray's 76, 150, 29 for R, G, B)", () => {
  const rgb = (values: number[][]): RgbImage => {
    const plane = values.length;
    const chw = new Float32Array(3 * plane);
    values.forEach((px, i) => {
      for (let c = 0; c < 3; c++) chw[c * plane + i] = px[c] / 255;
    });
    return { width: plane, height: 1, chw };
  };
  const g = rgbToGray(
    rgb([
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [255, 255, 255],
      [100, 150, 200],
    ]),
  );
  // 0.29893602·100 + 0.58704307·150 + 0.11402090·200 = 140.75
  assert.deepEqual([...g.data], [76, 150, 29, 255, 141]);
});

test('MSCN of a constant image is 0, with σ 0', () => {
  const { mscn: coefs, sigma } = mscn(gray(20, 15, () => 137));
  assert.ok(coefs.every((v) => Math.abs(v) < 1e-12));
  assert.ok(sigma.every((v) => v < 1e-5));
});

test('NIQE matches the NumPy transcription of the MATLAB release (reference.py)', () => {
  // 200 x 232: cropped to 192 x 192, four patches.
  const image = referenceImage(200, 232);
  close(niqe(image), 22.003553412771122, 1e-9, 'NIQE');
  const { features, sharpness } = niqePatchFeatures(image);
  assert.equal(features.length, 4);
  const patch0 = [
    6.233, 1.3015510377347153, 1.225, -0.06195874721175526, 0.5437826949208017, 0.4646521580345883, 1.241,
    -0.0013125656490199618, 0.4971451154627728, 0.49544693940491585, 1.149, -0.04331942373765882,
    0.48347415357583745, 0.43180164178701064, 1.147, -0.046508976103136083, 0.4838669823063978,
    0.428498796381678, 3.716, 0.9750746766151264, 0.91, 0.041462851352783825, 0.18458298052884403,
    0.2204435864822775, 0.984, 0.027569841417793523, 0.21425518591638718, 0.2411912155132702, 0.997,
    -0.010040584654455105, 0.24063837968975427, 0.23064073114035083, 0.986, -0.0146838519696972,
    0.23565883556874048, 0.22126999794473412,
  ];
  features[0].forEach((v, i) => {
    close(v, patch0[i], 1e-10, `feature ${i}`);
  });
  [7.550983114266891, 7.3329115831481015, 7.204656184341151, 7.423332738391701].forEach((v, i) => {
    close(sharpness[i], v, 1e-10, `sharpness ${i}`);
  });
});

test('NIQE rises with blur and with noise on a natural-looking image', () => {
  const image = naturalImage(192, 1);
  const clean = niqe(image);
  const [blur1, blur2] = [niqe(blurred(image, 1)), niqe(blurred(image, 2))];
  const [noise10, noise20] = [niqe(noisy(image, 10, 2)), niqe(noisy(image, 20, 3))];
  assert.ok(clean < blur1 && blur1 < blur2, `clean ${clean}, blur σ=1 ${blur1}, σ=2 ${blur2}`);
  assert.ok(clean < noise10 && noise10 < noise20, `clean ${clean}, noise σ=10 ${noise10}, σ=20 ${noise20}`);
  assert.ok(clean < 10, `clean ${clean}`);
});

test('an RGB image is scored through rgbToGray', () => {
  const g = referenceImage(96, 100);
  const plane = 96 * 100;
  const chw = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) for (let i = 0; i < plane; i++) chw[c * plane + i] = g.data[i] / 255;
  // Equal channels: gray = round((Σ weights)·v) = v.
  assert.equal(niqe({ width: 96, height: 100, chw }), niqe(g));
});

test('fitNiqeModel: an image is at distance 0 from its own model; only sharp patches are kept', () => {
  const image = naturalImage(192, 4);
  close(niqe(image, fitNiqeModel([image], { sharpnessThreshold: 0 })), 0, 1e-9, 'self');
  // Flatten the top-left patch: its sharpness falls below 0.75 of the sharpest, so it is left out.
  const data = image.data.map((v, i) => (i % 192 < 96 && i < 96 * 192 ? 128 + (v - 128) / 8 : v));
  const dull = { ...image, data: data.map(Math.round) };
  const { features, sharpness } = niqePatchFeatures(dull);
  const kept = features.filter((_, i) => sharpness[i] > 0.75 * Math.max(...sharpness));
  assert.equal(kept.length, 3);
  const model = fitNiqeModel([dull]);
  for (let k = 0; k < 36; k++)
    close(model.mean[k], (kept[0][k] + kept[1][k] + kept[2][k]) / 3, 1e-12, `mean ${k}`);
});

test('the pristine model is the release parameters; images under 96 px and flat images are refused', () => {
  const model = niqePristineModel();
  assert.equal(model.mean.length, 36);
  assert.equal(model.cov.length, 36 * 36);
  assert.equal(model.mean[0], 2.6013136801541448);
  assert.equal(model.cov[0], 0.45347810202943506);
  assert.throws(() => niqe(gray(95, 200, () => 0)), /at least 96 x 96/);
  const short = { mean: new Float64Array(18), cov: new Float64Array(18 * 18) };
  assert.throws(() => niqe(referenceImage(96, 96), short), /36 means/);
  assert.throws(() => niqe(gray(96, 96, () => 50)), /undefined/);
});
