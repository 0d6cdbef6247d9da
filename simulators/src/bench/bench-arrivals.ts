import { ShapeLine } from '@busfare/backoffice';
import { loadNmeaRecording } from '@busfare/terminal';
import { type CityRouteSpec, generateCityFeed, writeCityFeed } from '../city/city-gtfs.js';
import { nmeaRecordingPath } from '../gps/recordings.js';

/** Route ids the bench buses sign on to: even buses run route 1 forwards, odd ones route 2 backwards. */
export const BENCH_ROUTE_IDS = ['1', '2'] as const;
/** Distance between the bench city's stops along the drive (m). */
const STOP_SPACING_M = 2_000;
/** Fixes closer than this to the last path point add nothing to the route's shape (m). */
const PATH_STEP_M = 50;
/** The replay's longest pause between fixes (its default), which also paces the timetable (ms). */
const REPLAY_MAX_GAP_MS = 10_000;
const HEADWAY_S = 30 * 60;

/**
 * Writes the bench city's GTFS feed to `folder`. Routes 1 and 2 both follow the drive recording
 * that the bench buses replay, direction 0 the way it was driven and direction 1 backwards. They
 * have a stop every 2 km and a departure every 30 minutes all day. The timetable runs at the
 * drive's mean speed as the replay paces it, so a replaying bus matches a trip within a quarter
 * hour.
 */
export async function writeBenchCityFeed(folder: string): Promise<void> {
  const fixes = await loadNmeaRecording(nmeaRecordingPath('drive'), { notBefore: new Date('2000-01-01T00:00:00Z') });
  const line = new ShapeLine(fixes.map((entry) => entry.fix));
  const path: Array<[number, number]> = [];
  let keptM = -Infinity;
  let replayMs = 0;
  fixes.forEach((entry, index) => {
    const previous = fixes[index - 1];
    if (previous?.msOfDay !== undefined && entry.msOfDay !== undefined) replayMs += Math.min(Math.abs(entry.msOfDay - previous.msOfDay), REPLAY_MAX_GAP_MS);
    if (line.cumulativeM[index]! - keptM < PATH_STEP_M && index < fixes.length - 1) return;
    keptM = line.cumulativeM[index]!;
    path.push([entry.fix.lat, entry.fix.lon]);
  });
  // The feed measures the route along the thinned path, so the speed is taken along it too.
  const speedMps = new ShapeLine(path.map(([lat, lon]) => ({ lat, lon }))).lengthM / (replayMs / 1000);
  const route = (id: string): CityRouteSpec => ({
    id,
    shortName: id,
    longName: `${id}路`,
    path,
    stopSpacingM: STOP_SPACING_M,
    speedMps,
    dwellS: 0,
    firstDeparture: '00:00:00',
    lastDeparture: '24:00:00',
    headwayS: HEADWAY_S,
  });
  writeCityFeed(folder, generateCityFeed({ agencyName: '基准城市公交', timezone: 'Asia/Shanghai', startDate: '20200101', endDate: '20991231', routes: BENCH_ROUTE_IDS.map(route) }));
}
