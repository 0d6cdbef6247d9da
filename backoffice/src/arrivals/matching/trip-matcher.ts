import { serviceRunsOn } from '../../gtfs/gtfs-service.js';
import { addDays, localDateOf, serviceDayStart } from '../local-time.js';
import type { ScheduledTrip, TripSchedule } from './trip-patterns.js';
import type { MatchSource, VehicleFix } from './vehicle-events.js';

export interface MatchOptions {
  /** A fix further than this from the pattern's line is not on it (m). */
  maxOffsetM: number;
  /** Largest gap between the schedule and the fix times that still matches a trip (s). */
  maxScheduleDeviationS: number;
}

export const DEFAULT_MATCH_OPTIONS: MatchOptions = { maxOffsetM: 120, maxScheduleDeviationS: 40 * 60 };

/** A trip a vehicle is found to run, on one service date. */
export interface TripMatch {
  trip: ScheduledTrip;
  serviceDate: string;
  dayStart: number;
  /** Metres along the pattern of the latest fix. */
  distanceM: number;
  /** Schedule deviation at the latest fix: positive when the bus is late (s). */
  deviationS: number;
  source: MatchSource;
}

/** Minimum forward progress (m) over the fixes before the direction of travel is trusted. */
const MIN_PROGRESS_M = 40;
/** Seconds of schedule deviation that weigh as much as one metre of mean offset from the line. */
const OFFSET_WEIGHT_S_PER_M = 2;

/**
 * Finds the trip a vehicle runs from its recent fixes (oldest first). The sign-on is tried first:
 * its trip id when the schedule has it and the fixes lie on its line, else its route (and direction
 * when given). When that fails, or the sign-on is missing, every trip of the schedule is tried.
 * Candidates must have every fix within maxOffsetM of the line and must not run backwards along
 * it. The winner has the lowest sum of schedule deviation and weighted mean offset.
 */
export function matchTrip(schedule: TripSchedule, fixes: readonly VehicleFix[], excluded: ReadonlySet<string> = new Set(), options: MatchOptions = DEFAULT_MATCH_OPTIONS): TripMatch | undefined {
  const latest = fixes.at(-1);
  if (!latest) return undefined;

  if (latest.tripId !== undefined) {
    const trip = schedule.trips.get(latest.tripId);
    if (trip) {
      const match = bestMatch(schedule, [trip], fixes, excluded, options, true);
      if (match) return { ...match, source: 'sign-on' };
    }
  }
  if (latest.routeId !== undefined) {
    const routeTrips = (schedule.tripsByRoute.get(latest.routeId) ?? []).filter((trip) => latest.directionId === undefined || trip.directionId === latest.directionId);
    const match = bestMatch(schedule, routeTrips, fixes, excluded, options, false);
    if (match) return { ...match, source: 'sign-on' };
  }
  const match = bestMatch(schedule, [...schedule.trips.values()], fixes, excluded, options, false);
  return match ? { ...match, source: 'matching' } : undefined;
}

interface PatternFit {
  meanOffsetM: number;
  distanceM: number;
}

function bestMatch(schedule: TripSchedule, trips: readonly ScheduledTrip[], fixes: readonly VehicleFix[], excluded: ReadonlySet<string>, options: MatchOptions, trustTrip: boolean): Omit<TripMatch, 'source'> | undefined {
  const latest = fixes.at(-1)!;
  const fits = new Map<string, PatternFit | null>();
  const dates = [localDateOf(latest.time, schedule.timeZone)];
  dates.push(addDays(dates[0]!, -1));
  let best: (Omit<TripMatch, 'source'> & { score: number }) | undefined;
  const runs = new Map<string, boolean>();
  const runsOn = (serviceId: string, serviceDate: string): boolean => {
    const key = `${serviceId}|${serviceDate}`;
    let value = runs.get(key);
    if (value === undefined) {
      value = serviceRunsOn(schedule.feed, serviceId, serviceDate.replaceAll('-', ''));
      runs.set(key, value);
    }
    return value;
  };

  for (const trip of trips) {
    let fit = fits.get(trip.pattern.id);
    if (fit === undefined) {
      fit = fitPattern(trip, fixes, options);
      fits.set(trip.pattern.id, fit);
    }
    if (fit === null) continue;
    for (const serviceDate of dates) {
      if (excluded.has(`${serviceDate}|${trip.id}`)) continue;
      if (!runsOn(trip.serviceId, serviceDate)) continue;
      const dayStart = serviceDayStart(serviceDate, schedule.timeZone);
      const deviationS = latest.time - dayStart - scheduledTimeAt(trip, fit.distanceM, latest.time - dayStart);
      if (!trustTrip && Math.abs(deviationS) > options.maxScheduleDeviationS) continue;
      const score = Math.abs(deviationS) + OFFSET_WEIGHT_S_PER_M * fit.meanOffsetM;
      if (!best || score < best.score) best = { trip, serviceDate, dayStart, distanceM: fit.distanceM, deviationS, score };
    }
  }
  if (!best) return undefined;
  const { score: _score, ...match } = best;
  return match;
}

/** Places the fixes on a trip's line in order; null when one is off the line or the bus runs backwards. */
function fitPattern(trip: ScheduledTrip, fixes: readonly VehicleFix[], options: MatchOptions): PatternFit | null {
  const { line } = trip.pattern;
  let offsetSum = 0;
  let fromM = 0;
  let firstM = 0;
  let distanceM = 0;
  for (const [index, fix] of fixes.entries()) {
    const position = line.locate(fix, Math.max(0, fromM - 100));
    if (position.offsetM > options.maxOffsetM) return null;
    offsetSum += position.offsetM;
    if (index === 0) firstM = position.distanceM;
    distanceM = position.distanceM;
    fromM = position.distanceM;
  }
  const moved = fixes.length > 1 ? distanceM - firstM : 0;
  if (moved < -MIN_PROGRESS_M) return null;
  return { meanOffsetM: offsetSum / fixes.length, distanceM };
}

/** Share of the wait before a trip's first departure that counts as schedule deviation. */
const LAYOVER_WEIGHT = 0.25;

/**
 * Returns the scheduled time (s after the day's start) at a place along the trip. A bus at the
 * first stop before its departure is waiting there, so only a quarter of the wait counts against
 * the trip: the next departure wins over one that left long ago, and over one much later.
 */
export function scheduledTimeAt(trip: ScheduledTrip, distanceM: number, secondsOfDay: number): number {
  const { stops } = trip.pattern;
  if (distanceM <= stops[0]!.distanceM + 30) {
    const departure = trip.departureS[0]!;
    return secondsOfDay < departure ? secondsOfDay + LAYOVER_WEIGHT * (departure - secondsOfDay) : departure;
  }
  for (let index = 1; index < stops.length; index += 1) {
    const to = stops[index]!;
    if (distanceM > to.distanceM) continue;
    const from = stops[index - 1]!;
    const span = to.distanceM - from.distanceM;
    const share = span > 0 ? (distanceM - from.distanceM) / span : 1;
    return trip.departureS[index - 1]! + share * (trip.arrivalS[index]! - trip.departureS[index - 1]!);
  }
  return trip.arrivalS.at(-1)!;
}
