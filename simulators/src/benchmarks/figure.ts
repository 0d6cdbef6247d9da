/** One benchmark figure, printed as one JSON line: name is `figure.stat.variant`. */
export interface BenchmarkFigure {
  name: string;
  value: number;
  unit: string;
}

/** A benchmark group: runs its measurements and returns every figure. */
export type BenchmarkGroup = (options: { log: (line: string) => void }) => Promise<BenchmarkFigure[]>;

/** Returns the q-quantile (0..1) of the values by the nearest-rank method. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}
