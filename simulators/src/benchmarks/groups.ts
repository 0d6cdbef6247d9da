// Each benchmark group registers itself here with one line.
import { registerBenchmark } from './registry.js';

void registerBenchmark;
registerBenchmark('ingest', async () => (await import('./ingest.js')).ingestBenchmark);
registerBenchmark('drain', async () => (await import('./drain.js')).drainBenchmark);
registerBenchmark('tap', async () => (await import('./tap.js')).tapBenchmark);
registerBenchmark('arrivals', async () => (await import('./arrivals.js')).arrivalsBenchmark);
registerBenchmark('blacklist', async () => (await import('./blacklist.js')).blacklistBenchmark);
