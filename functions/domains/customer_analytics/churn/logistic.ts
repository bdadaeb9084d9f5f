/**
 * Logistic regression, small and exact enough to check by hand: Newton's method (iteratively
 * reweighted least squares) on standardised features with an optional L2 penalty on the slopes,
 * and the holdout measures the churn model records (AUC, log loss, base rate).
 *
 * No library: the maintained npm package (`ml-logistic-regression` 2.0.0) runs a fixed 50,000
 * steps of gradient ascent with an unscaled learning rate over the whole matrix per step — minutes
 * and no convergence check on 300,000 rows. Newton converges in a handful of steps of
 * O(rows × features²). Checked against coefficients published for the Challenger O-ring data and
 * against a case with a closed form (tests/customerChurn.test.ts).
 */

export interface LogisticFit {
  /** Intercept and slopes on the standardised features: z = b0 + Σ b_i (x_i - mean_i) / sd_i. */
  intercept: number;
  coefficients: number[];
  means: number[];
  /** Standard deviations (population); a feature with sd 0 gets coefficient 0 and sd 1. */
  sds: number[];
  iterations: number;
  converged: boolean;
}

export interface FitOptions {
  /** L2 penalty on the standardised slopes (not the intercept); 0 for the plain maximum likelihood. */
  l2?: number;
  maxIterations?: number;
  /** Stop when no coefficient moves more than this. */
  tolerance?: number;
}

/** The probability of a positive label for one row of raw features. */
export function predict(fit: Pick<LogisticFit, 'intercept' | 'coefficients' | 'means' | 'sds'>, x: readonly number[]): number {
  let z = fit.intercept;
  for (let j = 0; j < x.length; j++) z += fit.coefficients[j]! * ((x[j]! - fit.means[j]!) / fit.sds[j]!);
  return sigmoid(z);
}

export function sigmoid(z: number): number {
  // clamped like the SQL that scores with the same coefficients (EXP overflows beyond ~709)
  const c = Math.max(-30, Math.min(30, z));
  return 1 / (1 + Math.exp(-c));
}

/** Solves A x = b for a small symmetric positive-definite A (Gaussian elimination with partial pivoting). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const p = m[col]![col]!;
    if (Math.abs(p) < 1e-12) throw new Error('logistic regression: the features are collinear (singular matrix)');
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r]![col]! / p;
      if (f === 0) continue;
      for (let c = col; c <= n; c++) m[r]![c]! -= f * m[col]![c]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

/**
 * Fits P(y = 1 | x) = 1 / (1 + e^-(b0 + Σ b_i z_i)), z_i the standardised features. `rows` are
 * raw feature vectors (no intercept column), `labels` 0 or 1.
 */
export function fitLogistic(rows: readonly (readonly number[])[], labels: readonly number[], options: FitOptions = {}): LogisticFit {
  const n = rows.length;
  if (n === 0 || labels.length !== n) throw new Error(`logistic regression: ${n} rows and ${labels.length} labels`);
  const p = rows[0]!.length;
  const l2 = options.l2 ?? 0;
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-8;

  const means = new Array<number>(p).fill(0);
  for (const r of rows) for (let j = 0; j < p; j++) means[j]! += r[j]! / n;
  const sds = new Array<number>(p).fill(0);
  for (const r of rows) for (let j = 0; j < p; j++) sds[j]! += (r[j]! - means[j]!) ** 2 / n;
  const constant = sds.map((v) => v === 0);
  for (let j = 0; j < p; j++) sds[j] = constant[j] ? 1 : Math.sqrt(sds[j]!);

  // standardised design, with the intercept first; constant features are left out of the fit
  const used = [...Array(p).keys()].filter((j) => !constant[j]);
  const k = used.length + 1;
  const z = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    z[i * k] = 1;
    for (let u = 0; u < used.length; u++) z[i * k + u + 1] = (rows[i]![used[u]!]! - means[used[u]!]!) / sds[used[u]!]!;
  }

  const beta = new Array<number>(k).fill(0);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    const hessian = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    const gradient = new Array<number>(k).fill(0);
    for (let i = 0; i < n; i++) {
      let eta = 0;
      for (let a = 0; a < k; a++) eta += z[i * k + a]! * beta[a]!;
      const mu = sigmoid(eta);
      const w = Math.max(mu * (1 - mu), 1e-10);
      const resid = labels[i]! - mu;
      for (let a = 0; a < k; a++) {
        const za = z[i * k + a]!;
        gradient[a]! += za * resid;
        const row = hessian[a]!;
        for (let b = a; b < k; b++) row[b]! += w * za * z[i * k + b]!;
      }
    }
    for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) hessian[a]![b] = hessian[b]![a]!;
    for (let a = 1; a < k; a++) {
      hessian[a]![a]! += l2;
      gradient[a]! -= l2 * beta[a]!;
    }
    const step = solve(hessian, gradient);
    let largest = 0;
    for (let a = 0; a < k; a++) {
      beta[a]! += step[a]!;
      largest = Math.max(largest, Math.abs(step[a]!));
    }
    if (largest < tolerance) {
      converged = true;
      break;
    }
  }
  const coefficients = new Array<number>(p).fill(0);
  used.forEach((j, u) => (coefficients[j] = beta[u + 1]!));
  return { intercept: beta[0]!, coefficients, means, sds, iterations, converged };
}

/**
 * Area under the ROC curve: the chance that a random positive scores above a random negative
 * (ties count half), from the ranks (Mann-Whitney). Undefined without both classes.
 */
export function rocAuc(scores: readonly number[], labels: readonly number[]): number | undefined {
  const order = [...scores.keys()].sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1; // average rank of the tie group, 1-based
    for (let t = i; t <= j; t++) if (labels[order[t]!] === 1) {
      positives++;
      rankSum += rank;
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return undefined;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean negative log-likelihood, probabilities clipped to [1e-15, 1 - 1e-15]. */
export function logLoss(probabilities: readonly number[], labels: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const q = Math.min(1 - 1e-15, Math.max(1e-15, probabilities[i]!));
    sum -= labels[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return sum / probabilities.length;
}
