import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseAvlFixes, parseTransitClockBoolean, parseTransitClockPredictions } from '../../backoffice/src/arrivals/gtfs-avl-format.js';
import { parseLocalTime, serviceDayStart } from '../../backoffice/src/arrivals/local-time.js';
import { detectTrips } from '../../backoffice/src/arrivals/matching/arrival-detection.js';
import { buildTripSchedule } from '../../backoffice/src/arrivals/matching/trip-patterns.js';
import { driveFixes } from '../../backoffice/src/arrivals/testing/synthetic-drive.js';
import { writeSyntheticFeed } from '../../backoffice/src/arrivals/testing/synthetic-route.js';
import { runArrivalsEval } from '../../backoffice/src/cli/arrivals-eval-command.js';
import { main } from '../../backoffice/src/command-line.js';
import { importGtfsFeed } from '../../backoffice/src/gtfs/gtfs-feed.js';

// The WMATA feed, positions and TransitClock predictions are GPL-licensed test resources of
// TransitClock, so they stay outside the repository; these tests read them from the sibling
// shared folder and skip when it is absent.
const WMATA = fileURLToPath(new URL('../../../shared/data/arrivals/wmata-transitclock/', import.meta.url));
const HAS_WMATA = existsSync(join(WMATA, 'avl/S2_2113.csv'));
const MODELS = ['busfare', 'historical-median', 'last-vehicle', 'kalman'];
const SHANGHAI = 'Asia/Shanghai';

let directory: string;
let feedFolder: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-gtfs-avl-'));
  feedFolder = join(directory, 'feed');
  writeSyntheticFeed(feedFolder);
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

function run(args: string[]): { out: string; log: string } {
  let out = '';
  let log = '';
  runArrivalsEval(args, (text) => (out += text), (text) => (log += text), 'en');
  return { out, log };
}

function localText(unixS: number): string {
  return new Date((unixS + 8 * 3600) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** Writes the positions of one bus on 2026-03-02, eastbound at 08:00 and back at 08:35, driving slower than the timetable. */
function writeAvl(name: string, date: string, speedMps: number): string {
  const start = serviceDayStart(date, SHANGHAI) + 8 * 3600;
  const fixes = [
    ...driveFixes({ vehicleId: '2113', start, directionId: 0, speedMps, dwellS: 25, fixEveryS: 30 }),
    ...driveFixes({ vehicleId: '2113', start: start + 35 * 60, directionId: 1, speedMps, dwellS: 25, fixEveryS: 30 }),
  ];
  const rows = fixes.map((fix) => `2113,"${localText(fix.time)}","NS-26","BLOCK_ID",90,${fix.lat.toFixed(6)},${fix.lon.toFixed(6)}`);
  const path = join(directory, name);
  writeFileSync(path, `"vehicleId","time","assignmentId","assignmentType","heading","latitude","longitude"\n${rows.join('\n')}\n`);
  return path;
}

function writeBaseline(): string {
  const eight = serviceDayStart('2026-03-02', SHANGHAI) + 8 * 3600;
  const rows = [3, 4, 5, 6, 7, 8, 9].flatMap((stop) =>
    Array.from({ length: 12 }, (_, step) => {
      const created = eight + step * 60;
      return `${stop}${step},"00000000","${localText(created)}",9,"${localText(created)}",${stop + 1},10000000,"${localText(eight + stop * 95)}","1","00000000",s${stop},E0800,2113`;
    }),
  );
  const path = join(directory, 'pred.csv');
  writeFileSync(path, `"id","affectedByWaitStop","avlTime","configRev","creationTime","gtfsStopSeq","isArrival","predictionTime","routeId","schedBasedPred","stopId","tripId","vehicleId"\n${rows.join('\n')}\n`);
  return path;
}

describe('gtfs-avl input files', () => {
  it('reads AVL positions in local time', () => {
    const [fix] = parseAvlFixes('vehicleId,time,latitude,longitude\n7,2016-04-29 08:23:52,38.95,-77.03\n', 'America/New_York');

    expect(fix).toEqual({ vehicleId: '7', time: Date.UTC(2016, 3, 29, 12, 23, 52) / 1000, lat: 38.95, lon: -77.03 });
  });

  it('reads a sign-on from optional columns', () => {
    const [fix] = parseAvlFixes('vehicleId,time,latitude,longitude,routeId,directionId,tripId\n7,2016-04-29 08:23:52,38.95,-77.03,S2,1,877611130\n', 'UTC');

    expect(fix).toMatchObject({ routeId: 'S2', directionId: 1, tripId: '877611130' });
  });

  it.each([
    ['vehicleId,time,latitude\n', /missing column\(s\) longitude/],
    ['vehicleId,time,latitude,longitude\n7,2016-04-29 25:00:00,38.9,-77\n', /AVL line 2: .*out of range/],
    ['vehicleId,time,latitude,longitude\n7,29/04/2016 08:00,38.9,-77\n', /AVL line 2: invalid local time/],
    ['vehicleId,time,latitude,longitude\n7,2016-04-29 08:00:00,98.9,-77\n', /AVL line 2: invalid coordinates/],
    ['vehicleId,time,latitude,longitude\n7,2016-04-29 08:00:00,,-77\n', /AVL line 2: invalid coordinates/],
    ['vehicleId,time,latitude,longitude\n,2016-04-29 08:00:00,38.9,-77\n', /AVL line 2: missing vehicleId/],
  ])('rejects AVL %j', (text, message) => {
    expect(() => parseAvlFixes(text, 'UTC')).toThrow(message);
  });

  it.each([
    ['10000000', true],
    ['00000000', false],
    ['true', true],
    ['x', undefined],
  ])('reads the TransitClock boolean %s', (text, value) => {
    expect(parseTransitClockBoolean(text)).toBe(value);
  });

  it('rejects an invalid baseline boolean', () => {
    const header = 'avlTime,creationTime,predictionTime,stopId,tripId,vehicleId,isArrival\n';
    expect(() => parseTransitClockPredictions(`${header}2016-04-29 08:00:00,2016-04-29 08:00:00,2016-04-29 08:05:00,1,2,3,yes\n`, 'UTC')).toThrow(/line 2: invalid isArrival "yes"/);
  });

  it('rejects an unknown time zone', () => {
    expect(() => parseLocalTime('2016-04-29 08:00:00', 'Mars/Olympus')).toThrow(/invalid time zone "Mars\/Olympus"/);
  });

  it('keeps wall time across a daylight-saving change', () => {
    expect(parseLocalTime('2016-03-13 03:30:00', 'America/New_York')).toBe(Date.UTC(2016, 2, 13, 7, 30) / 1000);
    expect(parseLocalTime('2016-03-12 03:30:00', 'America/New_York')).toBe(Date.UTC(2016, 2, 12, 8, 30) / 1000);
  });
});

describe('arrivals-eval --format gtfs-avl', () => {
  it('scores every model from raw positions', () => {
    const avl = writeAvl('day.csv', '2026-03-02', 8);
    const { out, log } = run(['--format', 'gtfs-avl', '--gtfs', feedFolder, '--avl', avl, '--tz', SHANGHAI]);

    const lines = out.trim().split('\n').map((line) => JSON.parse(line));
    expect([...new Set(lines.map((line) => line.model))].sort()).toEqual([...MODELS].sort());
    expect(lines.every((line) => line.n > 0 && line.maeS >= 0)).toBe(true);
    expect(log).toContain('E0800');
    expect(log).toContain('busfare settings (default)');
  });

  it('words the summary in Chinese', () => {
    const avl = writeAvl('day.csv', '2026-03-02', 8);
    const args = ['--format', 'gtfs-avl', '--gtfs', feedFolder, '--avl', avl, '--tz', SHANGHAI];
    let out = '';
    let log = '';
    runArrivalsEval(args, (text) => (out += text), (text) => (log += text), 'zh');

    expect(log).toMatch(/^\d+ 个定位点；识别出的行程：\S+（\d+ 站）(、\S+（\d+ 站）)*；\d+ 次预测请求；历史数据：时刻表行程 \d+ 个，实际记录行程 0 个；未计入的预测目标：\d+ 个缺少历史数据，\d+ 个没有当时有效的 TransitClock 预测\n/);
    expect(log).toContain('E0800');
    expect(log).toMatch(/\nbusfare 模型参数（默认值）：\{.*\}\n$/);
    // The report lines on stdout do not depend on the language.
    expect(out).toBe(run(args).out);
  });

  it('lets busfare adapt to a slow day better than the timetable', () => {
    const avl = writeAvl('slow.csv', '2026-03-02', 6);
    const lines = run(['--format', 'gtfs-avl', '--gtfs', feedFolder, '--avl', avl, '--tz', SHANGHAI]).out.trim().split('\n').map((line) => JSON.parse(line));
    const mae = (model: string): number => lines.filter((line) => line.model === model && line.horizonMin === '5-10')[0].maeS;

    expect(mae('busfare')).toBeLessThan(mae('historical-median'));
  });

  it('scores the TransitClock baseline', () => {
    const avl = writeAvl('day.csv', '2026-03-02', 8);
    const { out } = run(['--format', 'gtfs-avl', '--gtfs', feedFolder, '--avl', avl, '--tz', SHANGHAI, '--baseline', writeBaseline()]);

    const lines = out.trim().split('\n').map((line) => JSON.parse(line));
    const counts = (model: string): number => lines.filter((line) => line.model === model).reduce((sum, line) => sum + line.n, 0);
    expect(counts('transitclock')).toBeGreaterThan(0);
    expect(counts('transitclock')).toBe(counts('busfare'));
  });

  it('fits busfare on a recorded history', () => {
    const history = join(directory, 'history.csv');
    const days = ['2026-02-26', '2026-02-27', '2026-03-01'].map((date) => readFileSync(writeAvl(`h-${date}.csv`, date, 7), 'utf8').trim().split('\n'));
    writeFileSync(history, [days[0]![0], ...days.flatMap((lines) => lines.slice(1))].join('\n'));
    const { log } = run(['--format', 'gtfs-avl', '--gtfs', feedFolder, '--avl', writeAvl('day.csv', '2026-03-02', 7), '--tz', SHANGHAI, '--history', history]);

    expect(log).toContain('busfare settings (fitted)');
    expect(log).toMatch(/[1-9]\d* recorded trips/);
  });

  it.each([
    [['--format', 'gtfs-avl', '--gtfs', 'g', '--avl', 'a.csv'], /needs --tz/],
    [['--format', 'gtfs-avl', '--avl', 'a.csv', '--tz', 'UTC'], /needs --gtfs/],
    [['--format', 'gtfs-avl', '--gtfs', 'g', '--tz', 'UTC'], /needs --avl/],
  ])('rejects %j', (args, message) => {
    expect(() => run(args)).toThrow(message);
  });

  it('exits 1 on unusable input', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const avl = writeAvl('day.csv', '2026-03-02', 8);
      expect(await main(['arrivals-eval', '--format', 'gtfs-avl', '--gtfs', feedFolder, '--avl', join(directory, 'none.csv'), '--tz', SHANGHAI, '--lang', 'en'])).toBe(1);
      expect(await main(['arrivals-eval', '--format', 'gtfs-avl', '--gtfs', join(directory, 'no-feed'), '--avl', avl, '--tz', SHANGHAI])).toBe(1);
      const text = stderr.mock.calls.map((call) => String(call[0])).join('');
      expect(text).toContain('cannot read --avl');
    } finally {
      stderr.mockRestore();
    }
  });

  it('exits 2 on an unknown --tz', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const avl = writeAvl('day.csv', '2026-03-02', 8);
      expect(await main(['arrivals-eval', '--format', 'gtfs-avl', '--gtfs', feedFolder, '--avl', avl, '--tz', 'Nowhere/City', '--lang', 'en'])).toBe(2);
      expect(stderr.mock.calls.map((call) => String(call[0])).join('')).toContain('invalid --tz "Nowhere/City"');
    } finally {
      stderr.mockRestore();
    }
  });

  it('exits 1 when no trip is detected', async () => {
    const path = join(directory, 'far.csv');
    writeFileSync(path, 'vehicleId,time,latitude,longitude\n7,2026-03-02 08:00:00,40,116\n7,2026-03-02 08:00:30,40,116.001\n');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['arrivals-eval', '--format', 'gtfs-avl', '--gtfs', feedFolder, '--avl', path, '--tz', SHANGHAI])).toBe(1);
      expect(stderr.mock.calls.map((call) => String(call[0])).join('')).toContain('no trip with two or more stop arrivals');
    } finally {
      stderr.mockRestore();
    }
  });
});

describe.skipIf(!HAS_WMATA)('WMATA S2 vehicle 2113', () => {
  it('matches the trip TransitClock assigned', () => {
    const schedule = buildTripSchedule(importGtfsFeed(join(WMATA, 'gtfs/S2')));
    const fixes = parseAvlFixes(readFileSync(join(WMATA, 'avl/S2_2113.csv'), 'utf8'), 'America/New_York');
    const { trips, events } = detectTrips(schedule, fixes);

    expect(trips).toHaveLength(1);
    expect(trips[0]!.trip.id).toBe('2016-04-29/2113/877611130');
    expect(trips[0]!.trip.arrivals.length).toBeGreaterThanOrEqual(25);
    expect(events.filter((event) => event.kind === 'trip-matched')).toHaveLength(1);
  });

  it('scores five models against TransitClock', () => {
    const { out } = run([
      '--format', 'gtfs-avl',
      '--gtfs', join(WMATA, 'gtfs/S2'),
      '--avl', join(WMATA, 'avl/S2_2113.csv'),
      '--baseline', join(WMATA, 'pred/S2_2113.csv'),
      '--tz', 'America/New_York',
    ]);

    const lines = out.trim().split('\n').map((line) => JSON.parse(line));
    expect([...new Set(lines.map((line) => line.model))].sort()).toEqual([...MODELS, 'transitclock'].sort());
    for (const line of lines) {
      expect(line.n).toBeGreaterThan(10);
      expect(line.maeS).toBeLessThan(300);
    }
  });
});
