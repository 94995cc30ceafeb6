"""
Where the reference numbers in niqe.test.ts and fid.test.ts come from. Not part of the test run:
`python3 test/quality/metrics/reference.py` from the repository root (NumPy 2.4, SciPy 1.17).

NIQE: the LIVE release's MATLAB code (computequality.m, computefeature.m, estimateaggdparam.m, and the
MATLAB built-ins it calls: rgb2gray, fspecial, imfilter, imresize, circshift, nanmean, nancov, pinv)
transcribed literally to NumPy/SciPy, a second implementation written independently of the TypeScript
one: 2-D correlation instead of separable filtering, scipy.special.gamma instead of Lanczos, np.roll,
an SVD pseudo-inverse.

FID: pytorch-fid's calculate_frechet_distance (scipy.linalg.sqrtm of S1 @ S2).
"""
import json

import numpy as np
import scipy.linalg
from scipy.ndimage import correlate
from scipy.special import gamma

PARAMS = 'src/quality/metrics/niqe-params/niqe_pristine_params.json'


def fspecial_gaussian(size=7, sigma=7 / 6):
    r = (size - 1) / 2
    x, y = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1))
    h = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    h[h < np.finfo(float).eps * h.max()] = 0
    return h / h.sum()


def cubic(x):
    a = np.abs(x)
    return (1.5 * a**3 - 2.5 * a**2 + 1) * (a <= 1) + (-0.5 * a**3 + 2.5 * a**2 - 4 * a + 2) * ((1 < a) & (a <= 2))


def contributions(in_len, out_len, scale):
    width = 4.0
    kernel = cubic
    if scale < 1:
        kernel = lambda x: scale * cubic(scale * x)  # noqa: E731
        width = width / scale
    u = np.arange(1, out_len + 1, dtype=float)[:, None] / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    ind = left + np.arange(int(np.ceil(width)) + 2)[None, :]
    w = kernel(u - ind)
    w = w / w.sum(axis=1, keepdims=True)
    aux = np.concatenate([np.arange(1, in_len + 1), np.arange(in_len, 0, -1)])
    ind = aux[np.mod(ind - 1, len(aux)).astype(int)]
    keep = np.any(w != 0, axis=0)
    return w[:, keep], ind[:, keep] - 1


def imresize(im, scale):
    out_h, out_w = int(np.ceil(im.shape[0] * scale)), int(np.ceil(im.shape[1] * scale))
    w, ind = contributions(im.shape[0], out_h, scale)
    rows = np.einsum('ok,okc->oc', w, im[ind, :])
    w, ind = contributions(im.shape[1], out_w, scale)
    return np.einsum('ok,rok->ro', w, rows[:, ind])


def estimate_aggd(vec):
    gam = np.arange(200, 10001) / 1000
    r_gam = gamma(2 / gam) ** 2 / (gamma(1 / gam) * gamma(3 / gam))
    with np.errstate(all='ignore'):
        leftstd = np.sqrt(np.mean(vec[vec < 0] ** 2)) if np.any(vec < 0) else np.nan
        rightstd = np.sqrt(np.mean(vec[vec > 0] ** 2)) if np.any(vec > 0) else np.nan
        g = leftstd / rightstd
        rhat = np.mean(np.abs(vec)) ** 2 / np.mean(vec**2)
        rhatnorm = rhat * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
    diff = (r_gam - rhatnorm) ** 2
    alpha = gam[0 if np.all(np.isnan(diff)) else int(np.nanargmin(diff))]
    s = np.sqrt(gamma(1 / alpha) / gamma(3 / alpha))
    return alpha, leftstd * s, rightstd * s


def compute_feature(block):
    alpha, bl, br = estimate_aggd(block.ravel())
    feat = [alpha, (bl + br) / 2]
    for shift in [(0, 1), (1, 0), (1, 1), (1, -1)]:
        alpha, bl, br = estimate_aggd((block * np.roll(block, shift, axis=(0, 1))).ravel())
        feat += [alpha, (br - bl) * gamma(2 / alpha) / gamma(1 / alpha), bl, br]
    return feat


def patch_features(im):
    rows, cols = im.shape[0] // 96, im.shape[1] // 96
    im = im[: rows * 96, : cols * 96].astype(float)
    window = fspecial_gaussian()
    feats = [[] for _ in range(rows * cols)]
    sharpness = []
    for scale in (1, 2):
        mu = correlate(im, window, mode='nearest')
        sigma = np.sqrt(np.abs(correlate(im * im, window, mode='nearest') - mu * mu))
        mscn = (im - mu) / (sigma + 1)
        b = 96 // scale
        for by in range(rows):
            for bx in range(cols):
                feats[by * cols + bx] += compute_feature(mscn[by * b : (by + 1) * b, bx * b : (bx + 1) * b])
                if scale == 1:
                    sharpness.append(sigma[by * b : (by + 1) * b, bx * b : (bx + 1) * b].mean())
        im = imresize(im, 0.5)
    return np.array(feats), np.array(sharpness)


def pinv_matlab(a):
    u, s, vt = np.linalg.svd(a)
    keep = s > max(a.shape) * np.spacing(s.max())
    return (vt[keep].T / s[keep]) @ u[:, keep].T


def niqe(im):
    params = json.load(open(PARAMS))
    mu_p, cov_p = np.array(params['pop_mu']), np.array(params['pop_cov'])
    feats = patch_features(im)[0]
    mu_d = np.nanmean(feats, axis=0)
    complete = feats[~np.isnan(feats).any(axis=1)]
    cov_d = np.zeros((36, 36)) if len(complete) == 1 else np.cov(complete, rowvar=False)
    d = mu_p - mu_d
    return float(np.sqrt(d @ pinv_matlab((cov_p + cov_d) / 2) @ d))


def test_image(w, h):
    """niqe.test.ts's referenceImage: integer arithmetic only, so both languages make the same pixels."""
    y, x = np.mgrid[0:h, 0:w]
    v = 40 + ((x * (200 - x) + y * (150 - y)) >> 7) + ((x ^ y) & 15) + ((x * x + 3 * y * y) % 23) + np.where(2 * x > 3 * y, 35, 0)
    return np.clip(v, 0, 255).astype(float)


def frechet_distance(mu1, s1, mu2, s2):
    covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    d = mu1 - mu2
    return d.dot(d) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean).real


if __name__ == '__main__':
    image = test_image(200, 232)
    feats, sharpness = patch_features(image)
    print('NIQE of referenceImage(200, 232):', repr(niqe(image)))
    print('patch 0 features:', [float(v) for v in feats[0]])
    print('sharpness:', [float(v) for v in sharpness])
    print('imresize(referenceImage(9, 7), 0.5):', [float(v) for v in imresize(test_image(9, 7), 0.5).ravel()])
    s1 = np.array([[2, 0.3, -0.4], [0.3, 1, 0.2], [-0.4, 0.2, 0.5]])
    s2 = np.array([[1, -0.5, 0.1], [-0.5, 3, 0.7], [0.1, 0.7, 0.8]])
    print('FID:', repr(float(frechet_distance(np.array([0.5, -1, 2]), s1, np.array([0, 0.25, 1]), s2))))
