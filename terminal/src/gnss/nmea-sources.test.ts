import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../ports/clock.js';
import type { GnssFix } from '../ports/position-source.js';
import { decideClockCorrection } from './clock-discipline.js';
import { matchDevicePaths, resolveDevicePath } from './device-path.js';
import { epoch } from './nmea/nmea-test-helpers.js';
import { NmeaFileReplaySource } from './nmea-file-replay-source.js';
import type { NmeaSentenceEvent } from './nmea-source-base.js';
import { NmeaStreamPositionSource } from './nmea-stream-position-source.js';
import { waitFor } from './pty-test-helpers.js';

const QUECTEL_LOG = fileURLToPath(new URL('../../../simulators/data/nmea/quectel-eg25-g.log', import.meta.url));
const DATA_FOLDER = fileURLToPath(new URL('../../../simulators/data/nmea/', import.meta.url));
const OLD_DATES = new Date('2000-01-01T00:00:00Z');

describe('NmeaStreamPositionSource', () => {
  it('emits fixes, sentences and health from a stream', async () => {
    const stream = new PassThrough();
    const fixes: GnssFix[] = [];
    const sentences: NmeaSentenceEvent[] = [];
    const health: string[] = [];
    const source = new NmeaStreamPositionSource(stream, {
      notBefore: OLD_DATES,
      epochIdleFlushMs: 10,
      onSentence: (event) => sentences.push(event),
    });
    source.on('fix', (fix) => fixes.push(fix));
    source.on('health', (value) => health.push(value));
    await source.start();

    stream.write(`${epoch('120000', { status: 'V' }).join('\n')}\n`);
    stream.write(`${epoch('120001').join('\n')}\n$GPRMC,bad*7E\n`);
    await waitFor(() => fixes.length === 1, 'the idle flush to emit the fix');
    stream.end();
    await waitFor(() => source.health === 'down', 'stream end');

    expect(fixes[0]?.time?.toISOString()).toBe('2022-09-11T12:00:01.000Z');
    expect(sentences.map((event) => `${event.kind} ${event.line}: ${event.reason}`)).toEqual([
      'ignored 1: no fix: RMC status V',
      expect.stringMatching(/^rejected 7: checksum mismatch/),
    ]);
    expect(health).toEqual(['degraded', 'ok', 'down']);
    await source.stop();
  });
});

describe('NmeaFileReplaySource', () => {
  async function collect(options: ConstructorParameters<typeof NmeaFileReplaySource>[1], count: number) {
    const source = new NmeaFileReplaySource(QUECTEL_LOG, { notBefore: OLD_DATES, speed: Infinity, ...options });
    const fixes: GnssFix[] = [];
    source.on('fix', (fix) => fixes.push(fix));
    await source.start();
    await waitFor(() => fixes.length >= count, `${count} replayed fixes`);
    await source.stop();
    return { fixes: fixes.slice(0, count), length: source.length };
  }

  it('replays every usable fix in order', async () => {
    const { fixes, length } = await collect({}, 23);
    expect(length).toBe(23);
    expect(fixes[0]?.time?.toISOString()).toBe('2022-09-11T19:15:03.010Z');
    expect(fixes[22]?.time?.toISOString()).toBe('2022-09-11T19:15:33.980Z');
  });

  it('loops, slices and starts at an offset', async () => {
    const { fixes } = await collect({ fromFix: 10, toFix: 15, startOffset: 3, loop: true }, 7);
    const seconds = fixes.map((fix) => fix.time?.toISOString().slice(17, 19));
    expect(seconds).toEqual(['15', '16', '12', '13', '14', '15', '16']);
  });

  it('reverses the slice and turns courses round', async () => {
    const forward = await collect({ fromFix: 0, toFix: 3 }, 3);
    const backward = await collect({ fromFix: 0, toFix: 3, reverse: true }, 3);
    expect(backward.fixes.map((fix) => fix.lat)).toEqual(forward.fixes.map((fix) => fix.lat).reverse());
    expect(backward.fixes[2]?.courseDeg).toBeCloseTo(((forward.fixes[0]?.courseDeg ?? 0) + 180) % 360, 6);
  });

  it('shifts times to now', async () => {
    const clock = new ManualClock(new Date('2026-12-04T08:00:00Z'));
    const { fixes } = await collect({ shiftTimesToNow: true, clock }, 2);
    expect(fixes.map((fix) => fix.time?.toISOString())).toEqual(['2026-12-04T08:00:00.000Z', '2026-12-04T08:00:00.000Z']);
  });

  it('rejects an empty slice', async () => {
    const source = new NmeaFileReplaySource(QUECTEL_LOG, { notBefore: OLD_DATES, fromFix: 100 });
    await expect(source.start()).rejects.toThrow(/no usable fixes in .*quectel-eg25-g\.log/);
  });

  it('rejects a missing file', async () => {
    const source = new NmeaFileReplaySource(`${DATA_FOLDER}missing.log`);
    await expect(source.start()).rejects.toThrow(/ENOENT/);
  });
});

describe('device paths', () => {
  it('matches a wildcard in the last segment', () => {
    expect(matchDevicePaths(`${DATA_FOLDER}*-eg25-?.log`)).toEqual([`${DATA_FOLDER}quectel-eg25-g.log`]);
    expect(matchDevicePaths(`${DATA_FOLDER}LICENSE-*.txt`)).toHaveLength(2);
  });

  it('treats regular-expression characters literally', () => {
    expect(matchDevicePaths(`${DATA_FOLDER}quectel-eg25-g.lo.`)).toEqual([]);
  });

  it('returns nothing for a missing folder', () => {
    expect(matchDevicePaths('/nonexistent-busfare/tty*')).toEqual([]);
  });

  it('keeps an existing path and rescans a missing one', () => {
    expect(resolveDevicePath(QUECTEL_LOG, `${DATA_FOLDER}*.log`)).toBe(QUECTEL_LOG);
    expect(resolveDevicePath(`${DATA_FOLDER}gone.log`, `${DATA_FOLDER}beidou*`)).toBe(`${DATA_FOLDER}beidou-bd.log`);
    expect(resolveDevicePath(`${DATA_FOLDER}gone.log`)).toBe(`${DATA_FOLDER}gone.log`);
  });
});

describe('decideClockCorrection', () => {
  const notBefore = new Date('2026-01-01T00:00:00Z');
  const now = new Date('2026-12-04T12:00:00Z');
  const fixAt = (time: string | null): GnssFix => ({ time: time ? new Date(time) : null, lat: 31, lon: 121, talker: 'GN' });

  it.each([
    ['a fix without time', fixAt(null), { correct: false, reason: 'no-time' }],
    ['a time before the not-before date', fixAt('2025-12-31T23:59:59Z'), { correct: false, reason: 'before-not-before' }],
    ['an offset within tolerance', fixAt('2026-12-04T12:00:01.500Z'), { correct: false, reason: 'within-tolerance' }],
    ['a clock 5 s slow', fixAt('2026-12-04T12:00:05Z'), { correct: true, offsetMs: 5000 }],
    ['a clock an hour fast', fixAt('2026-12-04T11:00:00Z'), { correct: true, offsetMs: -3_600_000 }],
  ])('decides %s', (_name, fix, expected) => {
    expect(decideClockCorrection(fix, now, { notBefore })).toEqual(expected);
  });

  it('uses the configured tolerance', () => {
    expect(decideClockCorrection(fixAt('2026-12-04T12:00:01.500Z'), now, { notBefore, minCorrectionMs: 1000 })).toEqual({
      correct: true,
      offsetMs: 1500,
    });
  });
});
