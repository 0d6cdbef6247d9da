import { distanceM } from '../../gtfs/geo.js';
import { DEFAULT_MATCH_OPTIONS, type MatchOptions, type TripMatch, matchTrip } from './trip-matcher.js';
import type { TripSchedule } from './trip-patterns.js';
import type { VehicleEvent, VehicleFix } from './vehicle-events.js';

export interface TrackerOptions extends MatchOptions {
  /** A bus within this many metres along the line of a stop is at the stop. */
  stopRadiusM: number;
  /** Fixes in a row off the line before a detour is reported. */
  detourFixes: number;
  /** Fixes in a row off the line after which the trip is dropped and matched again. */
  lostFixes: number;
  /** A bus that moves less than standstillM in standstillS seconds is standing still. */
  standstillM: number;
  standstillS: number;
  /** Fixes kept for matching. */
  matchFixes: number;
  /** Fastest believable speed along the line (m/s), which bounds where the next fix is searched. */
  maxSpeedMps: number;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  ...DEFAULT_MATCH_OPTIONS,
  stopRadiusM: 30,
  detourFixes: 3,
  lostFixes: 10,
  standstillM: 20,
  standstillS: 180,
  matchFixes: 3,
  maxSpeedMps: 30,
};

/** The tracker's state of the trip a vehicle runs now. */
export interface TrackedTrip {
  match: TripMatch;
  /** Metres along the pattern at the latest on-line fix; never decreases. */
  distanceM: number;
  /** Unix time of the latest on-line fix. */
  time: number;
  /** Index of the first stop the bus has not yet arrived at. */
  nextStop: number;
  /** Index of the stop whose zone the bus is in, if any. */
  atStop: number | undefined;
  offLineFixes: number;
  detour: boolean;
  layoverReported: boolean;
}

/**
 * Turns one vehicle's fixes (in time order) into trip, stop and fleet events. It matches the fixes
 * to a trip, then follows the bus along that trip's line: passing a stop's zone gives an arrival
 * and a departure, each timed by linear interpolation along the line between the two fixes around
 * it. Fixes that leave the line give a detour, a bus that does not move gives a standstill, and a
 * bus waiting at its first stop before the scheduled departure gives a layover. Pure: no clock, no
 * I/O.
 */
export class VehicleTracker {
  private readonly recent: VehicleFix[] = [];
  private readonly completed = new Set<string>();
  private current: TrackedTrip | undefined;
  private anchor: { fix: VehicleFix; reported: boolean } | undefined;

  constructor(
    private readonly schedule: TripSchedule,
    private readonly options: TrackerOptions = DEFAULT_TRACKER_OPTIONS,
  ) {}

  get trip(): TrackedTrip | undefined {
    return this.current;
  }

  get lastFix(): VehicleFix | undefined {
    return this.recent.at(-1);
  }

  update(fix: VehicleFix): VehicleEvent[] {
    const previous = this.recent.at(-1);
    if (previous && fix.time <= previous.time) return [];
    this.recent.push(fix);
    if (this.recent.length > this.options.matchFixes) this.recent.shift();

    const events: VehicleEvent[] = [];
    this.checkStandstill(fix, events);
    // A changed sign-on starts a fresh match, because the driver signed on to other work.
    if (this.current && previous && (fix.routeId !== previous.routeId || fix.directionId !== previous.directionId || fix.tripId !== previous.tripId)) {
      this.current = undefined;
      this.recent.splice(0, this.recent.length - 1);
    }
    if (!this.current) {
      this.assign(fix, events);
      return events;
    }
    this.follow(fix, events);
    return events;
  }

  private assign(fix: VehicleFix, events: VehicleEvent[]): void {
    const match = matchTrip(this.schedule, this.recent, this.completed, this.options);
    if (!match) return;
    const { trip } = match;
    const radius = this.options.stopRadiusM;
    // A bus already at the last stop has nothing left to run on that trip. It is most likely
    // waiting for its next trip, which a later fix will match.
    if (match.distanceM >= trip.pattern.stops.at(-1)!.distanceM - radius) return;
    let nextStop = trip.pattern.stops.findIndex((stop) => stop.distanceM + radius > match.distanceM);
    if (nextStop < 0) nextStop = trip.pattern.stops.length;
    const inZone = nextStop < trip.pattern.stops.length && trip.pattern.stops[nextStop]!.distanceM - radius <= match.distanceM;
    this.current = {
      match,
      distanceM: match.distanceM,
      time: fix.time,
      // A bus first seen inside a stop's zone arrived there at an unknown time: only its departure counts.
      nextStop: inZone ? nextStop + 1 : nextStop,
      atStop: inZone ? nextStop : undefined,
      offLineFixes: 0,
      detour: false,
      layoverReported: false,
    };
    events.push({ ...this.tripFields(fix), kind: 'trip-matched', time: fix.time, source: match.source, distanceM: match.distanceM });
    this.checkLayover(fix, events);
  }

  private follow(fix: VehicleFix, events: VehicleEvent[]): void {
    const state = this.current!;
    const { line, stops } = state.match.trip.pattern;
    // At its first stop a bus may be late for one departure or early for the next. The choice
    // stays open until the fix after it leaves, because its place along the line settles it.
    if (state.distanceM <= stops[0]!.distanceM + this.options.stopRadiusM) {
      const match = matchTrip(this.schedule, this.recent, this.completed, this.options);
      if (match && (match.trip.id !== state.match.trip.id || match.serviceDate !== state.match.serviceDate)) {
        this.current = undefined;
        this.assign(fix, events);
        return;
      }
    }
    const reachM = Math.max(300, this.options.maxSpeedMps * (fix.time - state.time));
    const position = line.locate(fix, Math.max(0, state.distanceM - 100), state.distanceM + reachM);

    if (position.offsetM > this.options.maxOffsetM) {
      state.offLineFixes += 1;
      if (state.offLineFixes >= this.options.detourFixes && !state.detour) {
        state.detour = true;
        events.push({ ...this.tripFields(fix), kind: 'detour', time: fix.time, offsetM: Math.round(position.offsetM) });
      }
      if (state.offLineFixes >= this.options.lostFixes) {
        events.push({ vehicleId: fix.vehicleId, kind: 'unmatched', time: fix.time, detectedAt: fix.time, reason: `off the line of trip ${state.match.trip.id} for ${state.offLineFixes} fixes` });
        this.current = undefined;
      }
      return;
    }
    state.offLineFixes = 0;
    if (state.detour) {
      state.detour = false;
      events.push({ ...this.tripFields(fix), kind: 'detour-ended', time: fix.time });
    }

    const fromM = state.distanceM;
    const fromTime = state.time;
    const toM = Math.max(fromM, position.distanceM);
    const radius = this.options.stopRadiusM;
    const timeAt = (targetM: number): number => (toM > fromM ? fromTime + Math.min(1, Math.max(0, (targetM - fromM) / (toM - fromM))) * (fix.time - fromTime) : fix.time);

    if (state.atStop !== undefined && toM >= stops[state.atStop]!.distanceM + radius) {
      events.push({ ...this.tripFields(fix), kind: 'departure', time: timeAt(stops[state.atStop]!.distanceM + radius), stopId: stops[state.atStop]!.stopId, stopIndex: state.atStop });
      state.atStop = undefined;
    }
    while (state.nextStop < stops.length && stops[state.nextStop]!.distanceM - radius <= toM) {
      const index = state.nextStop;
      const stop = stops[index]!;
      events.push({ ...this.tripFields(fix), kind: 'arrival', time: timeAt(stop.distanceM - radius), stopId: stop.stopId, stopIndex: index });
      state.nextStop += 1;
      if (toM >= stop.distanceM + radius) {
        events.push({ ...this.tripFields(fix), kind: 'departure', time: timeAt(stop.distanceM + radius), stopId: stop.stopId, stopIndex: index });
      } else {
        state.atStop = index;
      }
    }
    state.distanceM = toM;
    state.time = fix.time;

    if (state.nextStop >= stops.length) {
      events.push({ ...this.tripFields(fix), kind: 'trip-completed', time: fix.time });
      this.completed.add(`${state.match.serviceDate}|${state.match.trip.id}`);
      this.current = undefined;
      this.recent.splice(0, this.recent.length - 1);
      return;
    }
    this.checkLayover(fix, events);
  }

  private checkLayover(fix: VehicleFix, events: VehicleEvent[]): void {
    const state = this.current!;
    const { trip, dayStart } = state.match;
    const departureS = trip.departureS[0]!;
    if (state.layoverReported || state.atStop !== 0 || fix.time - dayStart >= departureS) return;
    state.layoverReported = true;
    events.push({ ...this.tripFields(fix), kind: 'layover', time: fix.time, stopId: trip.pattern.stops[0]!.stopId, scheduledDepartureS: departureS });
  }

  private checkStandstill(fix: VehicleFix, events: VehicleEvent[]): void {
    if (!this.anchor || distanceM(this.anchor.fix, fix) > this.options.standstillM) {
      this.anchor = { fix, reported: false };
      return;
    }
    const sinceS = fix.time - this.anchor.fix.time;
    if (!this.anchor.reported && sinceS >= this.options.standstillS) {
      this.anchor.reported = true;
      events.push({ vehicleId: fix.vehicleId, kind: 'standstill', time: this.anchor.fix.time, detectedAt: fix.time, sinceS, lat: fix.lat, lon: fix.lon });
    }
  }

  private tripFields(fix: VehicleFix): { vehicleId: string; detectedAt: number; tripId: string; routeId: string; directionId: number; serviceDate: string } {
    const { match } = this.current!;
    return { vehicleId: fix.vehicleId, detectedAt: fix.time, tripId: match.trip.id, routeId: match.trip.routeId, directionId: match.trip.directionId, serviceDate: match.serviceDate };
  }
}
