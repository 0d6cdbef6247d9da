import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GnssFix } from '../ports/position-source.js';
import { GpsdPositionSource } from './gpsd-position-source.js';
import { sentence } from './nmea/nmea-test-helpers.js';
import { missingBinary, startPtyPair, waitFor, type PtyPair } from './pty-test-helpers.js';

const missing = missingBinary('socat') ?? missingBinary('gpsd');
if (missing) console.warn(`skipping gpsd NMEA tests: ${missing}`);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Builds the epoch of second `second`, as a 1 Hz receiver sends it, with GSV so gpsd reports satellites. */
function receiverEpoch(second: number): string {
  const minutes = String(Math.floor(second / 60)).padStart(2, '0');
  const time = `12${minutes}${String(second % 60).padStart(2, '0')}.00`;
  return [
    sentence(`GPGGA,${time},3114.8770,N,12135.2463,E,1,06,1.1,10.0,M,8.3,M,,`),
    sentence('GPGSA,A,3,01,02,03,04,05,06,,,,,,,2.0,1.1,1.5'),
    sentence('GPGSV,2,1,06,01,40,083,46,02,17,308,44,03,07,344,39,04,22,228,45'),
    sentence('GPGSV,2,2,06,05,55,120,40,06,30,200,42'),
    sentence(`GPRMC,${time},A,3114.8770,N,12135.2463,E,10.0,90.0,110922,,,A`),
    '',
  ].join('\r\n');
}

describe.skipIf(Boolean(missing))('GpsdPositionSource with gpsd fed from a pty', () => {
  let dir: string;
  let ptys: PtyPair;
  let gpsd: ChildProcess;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-gpsd-'));
    // gpsd drops privileges to its own user, which must reach the pty links.
    chmodSync(dir, 0o755);
    ptys = await startPtyPair(dir, 'feed', 'gps');
    port = await freePort();
    gpsd = spawn('gpsd', ['-N', '-n', '-b', '-S', String(port), '-F', join(dir, 'gpsd.sock'), ptys.readerPath], { stdio: 'ignore' });
    let ready = false;
    await waitFor(() => {
      void accepts(port).then((ok) => (ready = ok));
      return ready;
    }, `gpsd listening on 127.0.0.1:${port}`);
  });

  afterAll(async () => {
    if (gpsd && gpsd.exitCode === null) {
      const exited = new Promise((resolve) => gpsd.once('exit', resolve));
      gpsd.kill('SIGTERM');
      await exited;
    }
    await ptys?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('receives fixes from TPV and SKY reports', async () => {
    const fixes: GnssFix[] = [];
    const source = new GpsdPositionSource({ port, notBefore: new Date('2000-01-01T00:00:00Z'), reconnectInitialMs: 50 });
    source.on('fix', (fix) => fixes.push(fix));
    await source.start();
    await waitFor(() => source.health === 'degraded', 'connection to gpsd');

    // gpsd ignores the first second of a new device while it syncs, so keep feeding until fixes come.
    const feed = await open(ptys.writerPath, 'w');
    try {
      for (let second = 0; second < 300 && fixes.length < 3; second++) {
        await feed.write(receiverEpoch(second));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await feed.close();
      await source.stop();
    }

    expect(fixes.length).toBeGreaterThanOrEqual(3);
    const last = fixes.at(-1)!;
    expect(last.lat).toBeCloseTo(31.24795, 5);
    expect(last.lon).toBeCloseTo(121.587438, 5);
    expect(last.talker).toBe('gpsd');
    expect(last.hdop).toBe(1.1);
    expect(last.satellites).toBe(6);
    expect(last.time?.getUTCFullYear()).toBe(2022);
    expect(last.speedMps).toBeCloseTo(5.144, 2);
  });

  it('reports down and retries while gpsd is unreachable', async () => {
    const source = new GpsdPositionSource({ port: await freePort(), reconnectInitialMs: 20, reconnectMaxMs: 40 });
    const health: string[] = [];
    source.on('health', (value) => health.push(value));
    await source.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await source.stop();
    expect(health).toEqual(['down']);
  });
});
