import { parentPort, workerData } from 'node:worker_threads';
import { type ModelWorkerData, buildModelParts } from './model-builds.js';
import type { ModelReply } from './model-thread.js';

// Entry of the model worker thread: builds the parts of the one requested model (learned from
// detected trips or from the timetable), replies once and exits.
let reply: ModelReply;
let transfer: ArrayBuffer[] = [];
try {
  const built = buildModelParts(workerData as ModelWorkerData);
  reply = { build: built.build };
  // The typed columns move to the refresh thread instead of being copied.
  transfer = built.transfer;
} catch (error) {
  reply = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}
parentPort?.postMessage(reply, transfer);
