import { BENCHMARK_GROUPS } from './registry.js';
import './groups.js';

export const BENCHMARK_USAGE = `Usage: busfare-bench benchmark GROUP

Runs one benchmark group and prints one JSON line per figure on stdout:
{"name": "figure.stat.variant", "value": number, "unit": "..."}. Progress goes to stderr.
Also available as "npm run -s bench -- GROUP".
`;

/** Runs `busfare-bench benchmark GROUP`; returns the exit code. */
export async function benchmarkCommand(args: string[]): Promise<number> {
  const [group, ...rest] = args;
  const names = Object.keys(BENCHMARK_GROUPS).sort();
  if (group === '--help' || group === '-h' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${BENCHMARK_USAGE}\nGroups: ${names.join(', ')}\n`);
    return 0;
  }
  if (group === undefined) {
    process.stderr.write(`busfare-bench benchmark: missing GROUP\n\n${BENCHMARK_USAGE}\nGroups: ${names.join(', ')}\n`);
    return 2;
  }
  const load = BENCHMARK_GROUPS[group];
  if (!load) {
    process.stderr.write(`busfare-bench benchmark: unknown benchmark group "${group}": expected one of ${names.join(', ')}\n`);
    return 2;
  }
  if (rest.length > 0) {
    process.stderr.write(`busfare-bench benchmark: benchmark groups take no options, got ${rest.join(' ')}\n`);
    return 2;
  }
  const run = await load();
  const figures = await run({ log: (line) => process.stderr.write(`[${group}] ${line}\n`) });
  for (const figure of figures) process.stdout.write(`${JSON.stringify(figure)}\n`);
  return 0;
}
