#!/usr/bin/env node
// `npm run -s bench -- GROUP`: runs one benchmark group of busfare-bench and prints its JSON lines.
import { spawnSync } from 'node:child_process';

const [group, ...rest] = process.argv.slice(2);
if (!group || group === '--help' || group === '-h') {
  process.stderr.write('usage: npm run -s bench -- GROUP\ngroups: tap, blacklist, ingest, drain, arrivals\n');
  process.exit(group ? 0 : 2);
}
const result = spawnSync('npx', ['--no-install', 'busfare-bench', 'benchmark', group, ...rest], { stdio: 'inherit' });
process.exit(result.status ?? 1);
