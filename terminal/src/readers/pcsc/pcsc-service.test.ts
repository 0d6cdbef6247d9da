import { EventEmitter } from 'node:events';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { NfcPcscContext } from './nfc-pcsc-module.js';
import { PcscService } from './pcsc-service.js';

const logger = pino({ level: 'silent' });

/** A PC/SC context that only records whether it was closed. */
class FakeContext extends EventEmitter implements NfcPcscContext {
  closed = false;
  close() {
    this.closed = true;
  }
}

const services: PcscService[] = [];

afterEach(async () => {
  for (const service of services.splice(0)) await service.stop();
});

/** Starts a service whose socket identity the test sets, and which counts the contexts it made. */
async function startService(): Promise<{ service: PcscService; contexts: FakeContext[]; setSocket: (identity: number | undefined) => void }> {
  let socket: number | undefined = 1;
  const contexts: FakeContext[] = [];
  const service = new PcscService({
    logger,
    probe: async () => socket !== undefined,
    createContext: async () => {
      const context = new FakeContext();
      contexts.push(context);
      return context;
    },
    socketIdentity: () => socket,
    watchdogMs: 10,
    initialRetryMs: 10,
    maxRetryMs: 20,
  });
  services.push(service);
  await service.start();
  return { service, contexts, setSocket: (identity) => (socket = identity) };
}

function nextEvent(emitter: EventEmitter, event: string): Promise<unknown> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

describe('PcscService socket watchdog', () => {
  it('reconnects when pcscd made its socket anew', async () => {
    const { service, contexts, setSocket } = await startService();
    expect(service.isUp).toBe(true);

    const down = nextEvent(service, 'down');
    const up = nextEvent(service, 'up');
    setSocket(2);

    expect(String(await down)).toMatch(/was made anew, so pcscd restarted/);
    await up;
    expect(contexts).toHaveLength(2);
    expect(contexts[0]!.closed).toBe(true);
    expect(contexts[1]!.closed).toBe(false);
  });

  it('goes down when the socket is gone', async () => {
    const { service, setSocket } = await startService();

    const down = nextEvent(service, 'down');
    setSocket(undefined);

    expect(String(await down)).toMatch(/is gone/);
    expect(service.isUp).toBe(false);
  });

  it('keeps a context while the socket stays', async () => {
    const { service, contexts } = await startService();

    await new Promise((resolve) => setTimeout(resolve, 60));

    expect(service.isUp).toBe(true);
    expect(contexts).toHaveLength(1);
  });
});
