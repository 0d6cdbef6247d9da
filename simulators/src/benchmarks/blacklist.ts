import { spawn } from 'node:child_process';
import { randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  BLACKLIST_DELTA_TOPIC_KIND,
  PARAMETER_SET_SCHEMA,
  bigIntToAsn,
  canonicalJson,
  generateParameterSigningKeys,
  packBlacklist,
  sha256Hex,
  signParameterSet,
} from '@busfare/shared-protocol';
import { ParameterStore, TERMINAL_NODE_FLAGS } from '@busfare/terminal';
import { type BenchmarkFigure, type BenchmarkGroup, quantile } from './figure.js';

const ENTRIES = 1_000_000;
const LOOKUPS = 200_000;
const DELTA_ADDS = 8_000;
const DELTA_REMOVES = 2_000;
const DELTA_RUNS = 5;
const TERMINAL_ID = 'BL001';
/** Milliseconds after the terminal starts before its memory is sampled. */
const SETTLE_MS = 5_000;

/** `count` distinct random ASNs, sorted ascending. */
function randomSortedAsns(count: number): BigUint64Array {
  let values = new BigUint64Array(randomBytes(count * 8 + 800).buffer).sort();
  values = values.filter((value, index) => index === 0 || value !== values[index - 1]);
  return values.slice(0, count);
}

function signedSet(version: number, body: unknown, privateKey: KeyObject, effectiveFrom: Date): Record<string, unknown> {
  const set = {
    schema: PARAMETER_SET_SCHEMA,
    kind: 'blacklist',
    version,
    effectiveFrom: effectiveFrom.toISOString(),
    publishedAt: new Date().toISOString(),
    bodySha256: sha256Hex(canonicalJson(body)),
    body,
  };
  return signParameterSet(set, privateKey);
}

/**
 * Measures the blacklist figures on one terminal parameter store. They are the lookup time
 * through the tap path's lookup with 1,000,000 entries and the time to accept a 10,000-entry
 * delta (signature, checks, SQLite commit and merge). The third is the resident memory of a
 * terminal process that loads the list.
 * The terminal process is the terminal workspace's build, so build it first (npm install does).
 */
export const blacklistBenchmark: BenchmarkGroup = async ({ log }) => {
  const directory = mkdtempSync(join(tmpdir(), 'busfare-bench-blacklist-'));
  const keys = generateParameterSigningKeys();
  const figures: BenchmarkFigure[] = [];
  try {
    log(`packing ${ENTRIES} random ASNs`);
    const entries = randomSortedAsns(ENTRIES);
    const packed = packBlacklist(entries);
    const full = signedSet(1, { mode: 'full', packed: packed.manifest }, keys.privateKey, new Date(Date.now() - 60_000));

    const store = ParameterStore.open(join(directory, `${TERMINAL_ID}-parameters.db`), { publicKey: keys.publicKey });
    try {
      const loadStarted = performance.now();
      const loaded = store.acceptPackedBlacklist(Buffer.from(JSON.stringify(full)), packed.chunks);
      if (!loaded.ok || loaded.waiting !== undefined) throw new Error(`the full blacklist was not stored: ${JSON.stringify(loaded)}`);
      log(`stored ${packed.chunks.length} chunks in ${(performance.now() - loadStarted).toFixed(0)} ms`);

      figures.push(...measureLookups(store, entries));
      figures.push(measureDeltas(store, entries, keys.privateKey, log));
    } finally {
      store.close();
    }

    writeFileSync(join(directory, 'public-key.pem'), keys.publicKey.export({ type: 'spki', format: 'pem' }));
    figures.push(...(await measureTerminalRss(directory, log)));
    return figures;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
};

function measureLookups(store: ParameterStore, entries: BigUint64Array): BenchmarkFigure[] {
  const lookup = store.blacklistLookup();
  const probes: string[] = [];
  const misses = randomSortedAsns(LOOKUPS / 2);
  for (let index = 0; index < LOOKUPS / 2; index += 1) {
    probes.push(bigIntToAsn(entries[Math.floor(Math.random() * entries.length)]!));
    probes.push(bigIntToAsn(misses[index]!));
  }
  let hits = 0;
  for (const probe of probes.slice(0, 10_000)) if (lookup.has(probe)) hits += 1;

  const samples: number[] = new Array<number>(probes.length);
  hits = 0;
  for (let index = 0; index < probes.length; index += 1) {
    const started = performance.now();
    const listed = lookup.has(probes[index]!);
    samples[index] = (performance.now() - started) * 1000;
    if (listed) hits += 1;
  }
  if (hits < LOOKUPS / 2) throw new Error(`only ${hits} of ${LOOKUPS / 2} listed ASNs were found`);
  return [
    { name: 'blacklist_lookup_us.p50', value: round(quantile(samples, 0.5), 2), unit: 'us' },
    { name: 'blacklist_lookup_us.p99', value: round(quantile(samples, 0.99), 2), unit: 'us' },
  ];
}

function measureDeltas(store: ParameterStore, entries: BigUint64Array, privateKey: KeyObject, log: (line: string) => void): BenchmarkFigure {
  const durations: number[] = [];
  for (let run = 0; run < DELTA_RUNS; run += 1) {
    const add = Array.from(randomSortedAsns(DELTA_ADDS), bigIntToAsn);
    const remove: string[] = [];
    const step = Math.floor(entries.length / DELTA_REMOVES);
    for (let index = 0; index < DELTA_REMOVES; index += 1) remove.push(bigIntToAsn(entries[index * step + run]!));
    const payload = Buffer.from(JSON.stringify(signedSet(2 + run, { mode: 'delta', baseVersion: 1, add, remove }, privateKey, new Date(Date.now() - 1_000))));

    const started = performance.now();
    const result = store.accept(payload, { kind: BLACKLIST_DELTA_TOPIC_KIND });
    durations.push(performance.now() - started);
    if (!result.ok || result.waiting !== undefined) throw new Error(`the delta was not stored: ${JSON.stringify(result)}`);
    const active = store.activeBlacklist(new Date());
    if (!active.has(add[0]!) || active.has(remove[0]!)) throw new Error('the delta did not change the active blacklist');
  }
  log(`delta of ${DELTA_ADDS + DELTA_REMOVES} entries: ${durations.map((ms) => ms.toFixed(1)).join(', ')} ms`);
  return { name: 'blacklist_delta_apply_ms', value: round(Math.max(...durations), 1), unit: 'ms' };
}

/**
 * Starts the real terminal (`busfare-terminal run`, from the terminal workspace's build) on a data
 * folder and reads its resident set size from /proc once start-up has settled: once on the folder
 * whose parameter store contains the 1,000,000-entry list, once on an empty folder for comparison.
 * Its broker and reader socket do not exist, so the terminal keeps retrying both, as a bus out of
 * coverage does.
 */
async function measureTerminalRss(directory: string, log: (line: string) => void): Promise<BenchmarkFigure[]> {
  const loadedMb = await terminalRssMb(directory);
  const emptyDirectory = mkdtempSync(join(tmpdir(), 'busfare-bench-blacklist-empty-'));
  let emptyMb: number;
  try {
    writeFileSync(join(emptyDirectory, 'public-key.pem'), readFileSync(join(directory, 'public-key.pem')));
    emptyMb = await terminalRssMb(emptyDirectory);
  } finally {
    rmSync(emptyDirectory, { recursive: true, force: true });
  }
  log(`terminal RSS ${loadedMb} MB with ${ENTRIES} entries, ${emptyMb} MB without a blacklist`);
  return [
    { name: 'terminal_rss_mb', value: loadedMb, unit: 'MB' },
    { name: 'terminal_rss_mb.no-blacklist', value: emptyMb, unit: 'MB' },
  ];
}

async function terminalRssMb(directory: string): Promise<number> {
  const terminalBin = join(dirname(createRequire(import.meta.url).resolve('@busfare/terminal/package.json')), 'bin', 'busfare-terminal.js');
  const configPath = join(directory, 'terminal.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      terminalId: TERMINAL_ID,
      vehicleId: `V-${TERMINAL_ID}`,
      dataDir: directory,
      broker: { url: 'mqtt://127.0.0.1:1' },
      parameterPublicKeyFile: join(directory, 'public-key.pem'),
      reader: { kind: 'socket', path: join(directory, 'reader.sock') },
      driverScreen: { port: 0 },
    }),
  );
  const child = spawn(process.execPath, [...TERMINAL_NODE_FLAGS, terminalBin, 'run', '--config', configPath], { env: { ...process.env, BUSFARE_LOG_LEVEL: 'error' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await Promise.race([sleep(SETTLE_MS), exited.then((code) => Promise.reject(new Error(`the terminal exited with code ${code} during start-up: ${stderr.trim()}`)))]);
    let maxKb = 0;
    for (let sample = 0; sample < 5; sample += 1) {
      maxKb = Math.max(maxKb, residentKb(child.pid!));
      await sleep(200);
    }
    return round(maxKb / 1024, 1);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** VmRSS of a process from /proc, in KiB. */
function residentKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS line in /proc/${pid}/status`);
  return Number(match[1]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
