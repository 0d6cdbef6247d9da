import type { BenchmarkGroup } from './figure.js';

/**
 * Benchmark groups by name. Each group lives in its own module, loaded only when asked for, so one
 * group's dependencies never slow another's start-up.
 */
export const BENCHMARK_GROUPS: Record<string, () => Promise<BenchmarkGroup>> = {};

export function registerBenchmark(name: string, load: () => Promise<BenchmarkGroup>): void {
  BENCHMARK_GROUPS[name] = load;
}
