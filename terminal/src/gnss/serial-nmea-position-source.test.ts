import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GnssFix } from '../ports/position-source.js';
import { epoch } from './nmea/nmea-test-helpers.js';
import type { NmeaSentenceEvent } from './nmea-source-base.js';
import { missingBinary, startPtyPair, waitFor, type PtyPair } from './pty-test-helpers.js';
import { SerialNmeaPositionSource } from './serial-nmea-position-source.js';

const socatMissing = missingBinary('socat');
if (socatMissing) console.warn(`skipping serial NMEA tests: ${socatMissing}`);

function timeAt(second: number): string {
  const minutes = Math.floor(second / 60);
  return `12${String(minutes).padStart(2, '0')}${String(second % 60).padStart(2, '0')}.00`;
}

function epochs(from: number, count: number): Buffer {
  const lines = Array.from({ length: count }, (_, i) => epoch(timeAt(from + i))).flat();
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

function isoAt(second: number): string {
  return new Date(Date.UTC(2022, 8, 11, 12, 0, second)).toISOString();
}

async function writeTo(path: string, data: Buffer): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.write(data);
  } finally {
    await handle.close();
  }
}

describe.skipIf(Boolean(socatMissing))('SerialNmeaPositionSource over a socat pty', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  function setUp() {
    const dir = mkdtempSync(join(tmpdir(), 'busfare-serial-'));
    chmodSync(dir, 0o755);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const fixes: GnssFix[] = [];
    const sentences: NmeaSentenceEvent[] = [];
    const health: string[] = [];
    const source = new SerialNmeaPositionSource({
      path: join(dir, 'gps-1'),
      rescanPattern: join(dir, 'gps-*'),
      baudRate: 9600,
      reconnectInitialMs: 20,
      reconnectMaxMs: 100,
      epochIdleFlushMs: 50,
      notBefore: new Date('2000-01-01T00:00:00Z'),
      onSentence: (event) => sentences.push(event),
    });
    source.on('fix', (fix) => fixes.push(fix));
    source.on('health', (value) => health.push(value));
    cleanups.push(() => source.stop());
    return { dir, source, fixes, sentences, health };
  }

  async function pair(dir: string, suffix: number): Promise<PtyPair> {
    const ptys = await startPtyPair(dir, `writer-${suffix}`, `gps-${suffix}`);
    cleanups.push(() => ptys.stop());
    return ptys;
  }

  it('delivers fixes and reconnects under a new device name', async () => {
    const { dir, source, fixes, health } = setUp();
    const first = await pair(dir, 1);
    await source.start();
    await waitFor(() => source.currentPath === first.readerPath, 'port open');
    expect(source.health).toBe('degraded');

    await writeTo(first.writerPath, epochs(0, 20));
    await waitFor(() => fixes.length === 20, '20 fixes');

    await first.stop();
    await waitFor(() => source.health === 'down', 'port loss');

    const second = await pair(dir, 2);
    await waitFor(() => source.currentPath === second.readerPath, 'reopen on the new name');
    await writeTo(second.writerPath, epochs(20, 20));
    await waitFor(() => fixes.length === 40, '40 fixes');

    expect(fixes.map((fix) => fix.time?.toISOString())).toEqual(Array.from({ length: 40 }, (_, i) => isoAt(i)));
    expect(health).toEqual(['down', 'degraded', 'ok', 'down', 'degraded', 'ok']);
  });

  it('recovers from a hostile stream without losing a good epoch', async () => {
    const { dir, source, fixes, sentences } = setUp();
    const ptys = await pair(dir, 1);
    await source.start();
    await waitFor(() => source.currentPath === ptys.readerPath, 'port open');

    const garbage = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 151 + 7) % 256).filter((byte) => byte !== 0x0a));
    const badChecksum = Buffer.from('$GPRMC,120030,A,3114.8770,N,12135.2463,E,10.0,90.0,110922,,,A*00\r\n');
    const truncated = Buffer.from(epoch(timeAt(31))[0]!.slice(0, 25));
    await writeTo(
      ptys.writerPath,
      Buffer.concat([
        epochs(0, 5),
        garbage,
        Buffer.from('\n'),
        epochs(5, 5),
        badChecksum,
        Buffer.alloc(1024 * 1024, 0x41),
        Buffer.from('\n'),
        epochs(10, 5),
        truncated,
        Buffer.from('\r\n'),
        epochs(15, 5),
      ]),
    );
    await waitFor(() => fixes.length === 20, '20 fixes');

    expect(fixes.map((fix) => fix.time?.toISOString())).toEqual(Array.from({ length: 20 }, (_, i) => isoAt(i)));
    expect(sentences.filter((event) => event.kind === 'rejected').map((event) => event.reason)).toEqual([
      'line too long: 2988 bytes dropped (maximum 512)',
      expect.stringMatching(/^checksum mismatch: sentence has 00/),
      'line too long: 1048576 bytes dropped (maximum 512)',
      'missing or malformed checksum (expected *HH at the end)',
    ]);
    expect(source.stats).toEqual({ fixes: 20, rejected: 4, ignored: 0 });
    expect(source.health).toBe('ok');
  });

  it('retries while the device is missing', async () => {
    const { dir, source, fixes } = setUp();
    await source.start();
    expect(source.health).toBe('down');
    const ptys = await pair(dir, 7);
    await waitFor(() => source.currentPath === ptys.readerPath, 'port found by the rescan pattern');
    await writeTo(ptys.writerPath, epochs(0, 3));
    await waitFor(() => fixes.length === 3, '3 fixes');
  });
});
