import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POSITION_BATCH_SCHEMA, type PositionFix, positionBatchSchema } from '@busfare/shared-protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CardReader, CardReaderEvents } from '../ports/card-reader.js';
import type { PositionSource, PositionSourceEvents } from '../ports/position-source.js';
import { ManualClock } from '../ports/clock.js';
import type { SecureAccessModule } from '../ports/secure-access-module.js';
import { SqliteTransactionStore } from '../store/sqlite-transaction-store.js';
import { TerminalRuntime } from './terminal-runtime.js';

const logger = pino({ level: 'silent' });

class IdleReader extends EventEmitter<CardReaderEvents> implements CardReader {
  readonly name = 'idle reader';
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

/** Returns a SAM whose open() fails `failures` times, then succeeds. */
function flakySam(failures: number): SecureAccessModule & { opens: number } {
  const sam = {
    opens: 0,
    async open() {
      sam.opens += 1;
      if (sam.opens <= failures) throw new Error('PSAM not in its slot');
    },
  };
  return sam as unknown as SecureAccessModule & { opens: number };
}

let dir: string;
let store: SqliteTransactionStore;

function runtimeWith(sam: SecureAccessModule, samStartup?: 'required' | 'retry', samReopenTimeoutMs?: number): TerminalRuntime {
  return new TerminalRuntime({
    terminalId: 'T001',
    vehicleId: 'V001',
    reader: new IdleReader(),
    sam,
    store,
    fareTables: { activeFareTable: () => undefined },
    feedback: { show: () => undefined },
    clock: new ManualClock(new Date('2026-03-02T08:00:00+08:00')),
    logger,
    ...(samStartup === undefined ? {} : { samStartup }),
    ...(samReopenTimeoutMs === undefined ? {} : { samReopenTimeoutMs }),
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'busfare-runtime-'));
  store = SqliteTransactionStore.open(join(dir, 'terminal.db'));
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('TerminalRuntime PSAM opening', () => {
  it('fails to start when the SAM does not open and samStartup is required', async () => {
    await expect(runtimeWith(flakySam(1)).start()).rejects.toThrow(/PSAM not in its slot/);
  });

  it('retry startup opens the SAM later', async () => {
    const sam = flakySam(2);
    const runtime = runtimeWith(sam, 'retry');
    await runtime.start();
    await runtime.idle();
    expect(sam.opens).toBe(3);
    await runtime.stop();
  });

  it('opens the SAM once for resets reported before the reopen runs', async () => {
    const sam = flakySam(0);
    const runtime = runtimeWith(sam);
    await runtime.start();
    const first = runtime.reopenSam('reader back after "down"');
    const second = runtime.reopenSam('PSAM powered again');
    expect(second).toBe(first);
    await runtime.idle();
    expect(sam.opens).toBe(2);
    await runtime.stop();
  });

  it('gives up after samReopenTimeoutMs and leaves the open to the next tap', async () => {
    const sam = flakySam(100);
    const runtime = runtimeWith(sam, 'required', 0);
    await expect(runtime.start()).rejects.toThrow();
    await runtime.reopenSam('reader back after "down"');
    expect(sam.opens).toBe(2);
  });
});

describe('TerminalRuntime positions', () => {
  class ScriptedPositions extends EventEmitter<PositionSourceEvents> implements PositionSource {
    async start(): Promise<void> {}
    async stop(): Promise<void> {}
  }

  it('sends only fields the back office accepts', async () => {
    const published: PositionFix[] = [];
    const positions = new ScriptedPositions();
    const runtime = new TerminalRuntime({
      terminalId: 'T001',
      vehicleId: 'V001',
      reader: new IdleReader(),
      sam: flakySam(0),
      store,
      fareTables: { activeFareTable: () => undefined },
      feedback: { show: () => undefined },
      clock: new ManualClock(new Date('2026-03-02T08:00:00+08:00')),
      logger,
      positions,
      uplink: { notify: () => undefined, publishPositions: (fixes) => published.push(...fixes) },
    });
    await runtime.start();
    const time = new Date('2026-03-02T00:00:00Z');
    positions.emit('fix', { time, lat: 31.2, lon: 121.5, talker: 'GP', speedMps: 8.5, courseDeg: 90, hdop: 1.2, satellites: 9 });
    // Each value can come from a sentence with a valid checksum, but is out of the range a position batch allows.
    positions.emit('fix', { time: new Date(time.getTime() + 1_000), lat: 31.2, lon: 121.5, talker: 'GP', speedMps: 128.6, courseDeg: 400, hdop: -1, satellites: 120 });
    positions.emit('fix', { time: new Date(time.getTime() + 2_000), lat: 31.2, lon: 121.5, talker: 'GP', speedMps: -2.5, courseDeg: -10 });
    await runtime.stop();

    expect(published).toHaveLength(3);
    expect(published[0]).toMatchObject({ speedMps: 8.5, courseDeg: 90, hdop: 1.2, satellites: 9 });
    expect(published[1]).toEqual({ time: '2026-03-02T00:00:01.000Z', lat: 31.2, lon: 121.5 });
    expect(published[2]).toEqual({ time: '2026-03-02T00:00:02.000Z', lat: 31.2, lon: 121.5 });
    const batch = positionBatchSchema.safeParse({ schema: POSITION_BATCH_SCHEMA, terminalId: 'T001', vehicleId: 'V001', fixes: published });
    expect(batch.error?.issues ?? []).toEqual([]);
  });
});
