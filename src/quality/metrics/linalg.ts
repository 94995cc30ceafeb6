/**
 * Dense float64 linear algebra on symmetric matrices, the little that FID and NIQE need: the
 * eigendecomposition, and from it the square root of a positive semi-definite matrix and the
 * Moore-Penrose pseudo-inverse. Matrices are n x n, row-major, in a Float64Array.
 *
 * The eigensolver is Householder tridiagonalisation followed by the implicit QL algorithm (EISPACK's
 * tred2/tql2, as JAMA transcribes them) rather than cyclic Jacobi: both are backward stable, but QL
 * costs about 9n³ flops with eigenvectors and 4/3·n³ without, where Jacobi takes several n³ per sweep
 * over 6 to 10 sweeps; for Inception's 2048-d features that is under a minute against many. The code
 * works on the transpose of JAMA's V so that every inner loop runs along a row.
 */

export interface SymmetricEigen {
  /** Ascending. */
  values: Float64Array;
  /** Row i (n values) is the unit eigenvector of values[i]; absent when not asked for. */
  vectors?: Float64Array;
}

function checkSquare(a: Float64Array, n: number): void {
  if (!Number.isInteger(n) || n < 1 || a.length !== n * n) {
    throw new Error(`expected an n x n matrix with n = ${n}, got ${a.length} values`);
  }
  for (const v of a) if (!Number.isFinite(v)) throw new Error('matrix has a non-finite entry');
}

/**
 * Householder reduction to tridiagonal form, in place on w (which holds A, and A = Aᵀ). Leaves the
 * diagonal in d and the subdiagonal in e[1..n-1]; with `vectors`, w's rows become the orthogonal
 * transformation's columns.
 */
function tridiagonalize(w: Float64Array, n: number, d: Float64Array, e: Float64Array, vectors: boolean) {
  for (let j = 0; j < n; j++) d[j] = w[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    // Scaling avoids under/overflow in the Householder vector's norm.
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = w[j * n + i - 1];
        w[j * n + i] = 0;
        w[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = f > 0 ? -Math.sqrt(h) : Math.sqrt(h);
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      e.fill(0, 0, i);
      for (let j = 0; j < i; j++) {
        const row = j * n;
        f = d[j];
        w[i * n + j] = f;
        g = e[j] + w[row + j] * f;
        for (let k = j + 1; k < i; k++) {
          g += w[row + k] * d[k];
          e[k] += w[row + k] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        const row = j * n;
        f = d[j];
        g = e[j];
        for (let k = j; k < i; k++) w[row + k] -= f * e[k] + g * d[k];
        d[j] = w[row + i - 1];
        w[row + i] = 0;
      }
    }
    d[i] = h;
  }
  e[0] = 0;
  if (!vectors) {
    for (let j = 0; j < n; j++) d[j] = w[j * n + j];
    return;
  }
  // Accumulate the transformations; row n-1 keeps the diagonal meanwhile.
  for (let i = 0; i < n - 1; i++) {
    w[i * n + n - 1] = w[i * n + i];
    w[i * n + i] = 1;
    const h = d[i + 1];
    const hv = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = w[hv + k] / h;
      for (let j = 0; j <= i; j++) {
        const row = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += w[hv + k] * w[row + k];
        for (let k = 0; k <= i; k++) w[row + k] -= g * d[k];
      }
    }
    w.fill(0, hv, hv + i + 1);
  }
  for (let j = 0; j < n; j++) {
    d[j] = w[j * n + n - 1];
    w[j * n + n - 1] = 0;
  }
  w[n * n - 1] = 1;
}

/** Implicit QL with shifts on the tridiagonal (d, e); rotations applied to w's rows. */
function tridiagonalQl(w: Float64Array, n: number, d: Float64Array, e: Float64Array, vectors: boolean) {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  const eps = 2 ** -52;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    // QL takes two or three iterations per eigenvalue; EISPACK gives up after 30.
    for (let iter = 0; m > l && Math.abs(e[l]) > eps * tst1; iter++) {
      if (iter === 30) throw new Error('symmetric eigendecomposition did not converge');
      let g = d[l];
      let p = (d[l + 1] - g) / (2 * e[l]);
      let r = Math.hypot(p, 1);
      if (p < 0) r = -r;
      d[l] = e[l] / (p + r);
      d[l + 1] = e[l] * (p + r);
      const dl1 = d[l + 1];
      let h = g - d[l];
      for (let i = l + 2; i < n; i++) d[i] -= h;
      f += h;
      p = d[m];
      let c = 1;
      let c2 = 1;
      let c3 = 1;
      const el1 = e[l + 1];
      let s = 0;
      let s2 = 0;
      for (let i = m - 1; i >= l; i--) {
        c3 = c2;
        c2 = c;
        s2 = s;
        g = c * e[i];
        h = c * p;
        r = Math.hypot(p, e[i]);
        e[i + 1] = s * r;
        s = e[i] / r;
        c = p / r;
        p = c * d[i] - s * g;
        d[i + 1] = h + s * (c * g + s * d[i]);
        if (vectors) {
          const a = i * n;
          const b = a + n;
          for (let k = 0; k < n; k++) {
            const t = w[b + k];
            w[b + k] = s * w[a + k] + c * t;
            w[a + k] = c * w[a + k] - s * t;
          }
        }
      }
      p = (-s * s2 * c3 * el1 * e[l]) / dl1;
      e[l] = s * p;
      d[l] = c * p;
    }
    d[l] += f;
    e[l] = 0;
  }
}

/** Eigenvalues (ascending) and, with `vectors`, unit eigenvectors of the symmetric matrix a. */
export function symmetricEigen(a: Float64Array, n: number, opts: { vectors?: boolean } = {}): SymmetricEigen {
  checkSquare(a, n);
  const vectors = opts.vectors ?? true;
  const w = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(w, n, d, e, vectors);
  tridiagonalQl(w, n, d, e, vectors);
  const order = Array.from(d.keys()).sort((i, j) => d[i] - d[j]);
  const values = Float64Array.from(order, (i) => d[i]);
  if (!vectors) return { values };
  const sorted = new Float64Array(n * n);
  order.forEach((from, to) => {
    sorted.set(w.subarray(from * n, from * n + n), to * n);
  });
  return { values, vectors: sorted };
}

/** Σ f(λ_i) v_i v_iᵀ over the eigenpairs whose f(λ_i) is not 0. */
function spectralFunction(eig: SymmetricEigen, n: number, f: (value: number) => number): Float64Array {
  const vectors = eig.vectors!;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const fi = f(eig.values[i]);
    if (fi === 0) continue;
    const v = i * n;
    for (let a = 0; a < n; a++) {
      const c = fi * vectors[v + a];
      const row = a * n;
      for (let b = 0; b < n; b++) out[row + b] += c * vectors[v + b];
    }
  }
  return out;
}

/**
 * The principal square root of a symmetric positive semi-definite matrix. Eigenvalues below zero can
 * only be rounding error (a covariance is PSD), so they count as zero.
 */
export function sqrtmPsd(a: Float64Array, n: number): Float64Array {
  return spectralFunction(symmetricEigen(a, n), n, (v) => Math.sqrt(Math.max(v, 0)));
}

/**
 * The Moore-Penrose pseudo-inverse of a symmetric matrix, with MATLAB pinv's cut-off: singular values
 * (here |λ|) at or below n·eps(‖A‖₂) count as zero.
 */
export function pinvSymmetric(a: Float64Array, n: number): Float64Array {
  const eig = symmetricEigen(a, n);
  const norm = Math.max(Math.abs(eig.values[0]), Math.abs(eig.values[n - 1]));
  const tol = norm === 0 ? 0 : n * 2 ** (Math.floor(Math.log2(norm)) - 52);
  return spectralFunction(eig, n, (v) => (Math.abs(v) > tol ? 1 / v : 0));
}
