import { parentPort, workerData } from 'node:worker_threads';
import { MemoryKeyStore } from '../keys/key-store.js';
import { PayloadChecker } from './payload-check.js';
import { type PayloadCheckReply, type PayloadCheckRequest, type PayloadCheckWorkerData, packCheckedPayload, packedBuffers } from './payload-check-thread.js';
import { TacVerifier } from './tac-verifier.js';

// Entry of the payload-check worker thread: checks each payload it is sent and replies in order.
const data = workerData as PayloadCheckWorkerData;
const checker = new PayloadChecker({
  verifier: new TacVerifier({ keys: new MemoryKeyStore(data.keys), localIssuerPrefixes: data.localIssuerPrefixes }),
  businessDay: data.businessDay,
});

parentPort?.on('message', (request: PayloadCheckRequest) => {
  let reply: PayloadCheckReply;
  try {
    const { payload } = request;
    const text = typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
    reply = { id: request.id, checked: packCheckedPayload(checker.check(request.topic, text)) };
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  // The packed buffers move to the storing thread instead of being copied.
  parentPort?.postMessage(reply, 'checked' in reply ? packedBuffers(reply.checked) : []);
});
