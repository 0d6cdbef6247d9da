import { parentPort, workerData } from 'node:worker_threads';
import { type RecordedModelRequest, buildRecordedModelParts, recordedModelBuffers } from './recorded-model-parts.js';
import type { RecordedModelReply } from './recorded-model-thread.js';

// Entry of the learned-model worker thread: builds the one requested service date's model parts,
// replies once and exits.
let reply: RecordedModelReply;
try {
  reply = { build: buildRecordedModelParts(workerData as RecordedModelRequest) };
} catch (error) {
  reply = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}
// The typed columns move to the refresh thread instead of being copied.
parentPort?.postMessage(reply, 'build' in reply ? recordedModelBuffers(reply.build) : []);
