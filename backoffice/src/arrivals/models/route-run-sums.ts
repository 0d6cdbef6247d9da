import type { LiveDay, RunList } from '../live-day.js';

/**
 * Sums derived from the runs of each route on a LiveDay, kept per day and route. A read after
 * appends to the day passes `extend` the index of the first run they changed, so only the runs
 * from there on are summed again.
 */
export class RouteRunSums<T> {
  private readonly days = new WeakMap<LiveDay, Map<string, { revision: number; sums: T }>>();

  constructor(
    private readonly create: () => T,
    private readonly extend: (sums: T, runs: RunList, from: number) => void,
  ) {}

  /** Returns the sums of a route's runs on a day, brought up to date. */
  of(live: LiveDay, routeId: string): T {
    let byRoute = this.days.get(live);
    if (!byRoute) {
      byRoute = new Map();
      this.days.set(live, byRoute);
    }
    const revision = live.revision(routeId);
    let entry = byRoute.get(routeId);
    if (!entry) {
      entry = { revision, sums: this.create() };
      byRoute.set(routeId, entry);
      this.extend(entry.sums, live.runsInOrder(routeId), 0);
    } else if (entry.revision !== revision) {
      this.extend(entry.sums, live.runsInOrder(routeId), live.firstChangedRunSince(routeId, entry.revision));
      entry.revision = revision;
    }
    return entry.sums;
  }
}

/** Returns how many entries of an ascending list are at or before `time`. */
export function countAtOrBefore(times: readonly number[], time: number): number {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (times[middle]! <= time) low = middle + 1;
    else high = middle;
  }
  return low;
}
