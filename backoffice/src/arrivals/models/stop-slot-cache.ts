/**
 * Values per departure stop, target stop and time slot. The targets are keyed by their stop id
 * strings, which callers reuse, so a cached look-up builds no new key.
 */
export class StopSlotCache<T> {
  private readonly byFrom = new Map<string, Map<string, Map<number, T>>>();

  /** Returns the cached values from one stop of a route direction, by target stop and slot. */
  from(routeId: string, directionId: number, fromStop: string): Map<string, Map<number, T>> {
    const fromKey = `${directionId}|${routeId}|${fromStop}`;
    let byTarget = this.byFrom.get(fromKey);
    if (!byTarget) {
      byTarget = new Map();
      this.byFrom.set(fromKey, byTarget);
    }
    return byTarget;
  }
}

/** Returns the slots of one target in `byTarget`, adding an empty map on first use. */
export function slotsOf<T>(byTarget: Map<string, Map<number, T>>, target: string): Map<number, T> {
  let slots = byTarget.get(target);
  if (!slots) {
    slots = new Map();
    byTarget.set(target, slots);
  }
  return slots;
}
