/** Floor on a residual in the reweighting, so a point fitted exactly cannot take an infinite weight. */
const MIN_RESIDUAL = 1e-3;

export interface LeastAbsoluteOptions {
  /** Reweighting rounds after the least-squares start. */
  iterations?: number;
  /**
   * Ridge penalty on every coefficient but the first (the intercept), relative to the total weight
   * of the points, so that a band with few points keeps its coefficients near zero.
   */
  ridge?: number;
}

/**
 * Fits y ≈ X·β minimising Σ wᵢ·|yᵢ − xᵢ·β| by iteratively reweighted least squares, starting from
 * the weighted least-squares fit. `rows` are the points' feature vectors, all of the same length,
 * with the intercept's 1 first.
 */
export function fitLeastAbsoluteDeviations(rows: readonly Float64Array[], targets: readonly number[], weights: readonly number[], options: LeastAbsoluteOptions = {}): Float64Array {
  const size = rows[0]?.length ?? 0;
  if (rows.length !== targets.length || rows.length !== weights.length) throw new RangeError(`invalid fit: ${rows.length} rows, ${targets.length} targets, ${weights.length} weights`);
  if (rows.some((row) => row.length !== size)) throw new RangeError('invalid fit: rows of different lengths');
  const iterations = options.iterations ?? 20;
  const ridge = options.ridge ?? 0;
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  let beta = solveWeighted(rows, targets, weights, ridge * totalWeight, size);
  const reweighted = new Array<number>(rows.length);
  for (let round = 0; round < iterations; round += 1) {
    for (let index = 0; index < rows.length; index += 1) {
      reweighted[index] = weights[index]! / Math.max(MIN_RESIDUAL, Math.abs(targets[index]! - dot(rows[index]!, beta)));
    }
    const scale = reweighted.reduce((sum, weight) => sum + weight, 0);
    beta = solveWeighted(rows, targets, reweighted, ridge * scale, size);
  }
  return beta;
}

function dot(row: Float64Array, beta: Float64Array): number {
  let sum = 0;
  for (let index = 0; index < row.length; index += 1) sum += row[index]! * beta[index]!;
  return sum;
}

/** Solves (XᵀWX + λ·I′)β = XᵀWy, I′ the identity without the intercept's entry. */
function solveWeighted(rows: readonly Float64Array[], targets: readonly number[], weights: readonly number[], penalty: number, size: number): Float64Array {
  const matrix = new Float64Array(size * size);
  const vector = new Float64Array(size);
  for (let index = 0; index < rows.length; index += 1) {
    const row = rows[index]!;
    const weight = weights[index]!;
    for (let i = 0; i < size; i += 1) {
      const wi = weight * row[i]!;
      vector[i]! += wi * targets[index]!;
      for (let j = 0; j <= i; j += 1) matrix[i * size + j]! += wi * row[j]!;
    }
  }
  for (let i = 0; i < size; i += 1) {
    for (let j = 0; j < i; j += 1) matrix[j * size + i] = matrix[i * size + j]!;
    // A tiny floor keeps a feature that is zero on every point from making the system singular.
    matrix[i * size + i]! += (i === 0 ? 0 : penalty) + 1e-9;
  }
  return solveLinear(matrix, vector, size);
}

/** Solves the system by Gaussian elimination with partial pivoting. A singular column leaves its coefficient at 0. */
function solveLinear(matrix: Float64Array, vector: Float64Array, size: number): Float64Array {
  const a = Float64Array.from(matrix);
  const b = Float64Array.from(vector);
  for (let column = 0; column < size; column += 1) {
    let pivot = column;
    for (let row = column + 1; row < size; row += 1) if (Math.abs(a[row * size + column]!) > Math.abs(a[pivot * size + column]!)) pivot = row;
    if (Math.abs(a[pivot * size + column]!) < 1e-12) continue;
    if (pivot !== column) {
      for (let k = 0; k < size; k += 1) [a[column * size + k], a[pivot * size + k]] = [a[pivot * size + k]!, a[column * size + k]!];
      [b[column], b[pivot]] = [b[pivot]!, b[column]!];
    }
    for (let row = column + 1; row < size; row += 1) {
      const factor = a[row * size + column]! / a[column * size + column]!;
      if (factor === 0) continue;
      for (let k = column; k < size; k += 1) a[row * size + k]! -= factor * a[column * size + k]!;
      b[row]! -= factor * b[column]!;
    }
  }
  const x = new Float64Array(size);
  for (let row = size - 1; row >= 0; row -= 1) {
    const diagonal = a[row * size + row]!;
    if (Math.abs(diagonal) < 1e-12) continue;
    let sum = b[row]!;
    for (let k = row + 1; k < size; k += 1) sum -= a[row * size + k]! * x[k]!;
    x[row] = sum / diagonal;
  }
  return x;
}
