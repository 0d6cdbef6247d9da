/**
 * Resolves after one turn of the event loop, once every queued promise job has run. A tap calls it
 * after starting an APDU and before a synchronous SQLite commit, so that the APDU has reached
 * the device before the commit blocks the main thread. Transports queue a command behind the
 * previous one with promise jobs (the PC/SC PSAM slot, the simulated PSAM), and those jobs would
 * otherwise wait for the commit to finish.
 *
 * The overlap is real on hardware: nfc-pcsc 0.8.1 transmits through @pokusew/pcsclite 0.6.0,
 * which runs SCardTransmit on the libuv thread pool (uv_queue_work) and calls back with the
 * response, so the card or PSAM works while the main thread waits for fsync.
 */
export function handOverToTransport(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
