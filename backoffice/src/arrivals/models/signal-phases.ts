import type { ObservedTrip } from '../observed-trip.js';

/**
 * Settings of the search for arrival phases and of their smoothing. A fixed-time traffic signal just before a stop
 * lets buses through only in its green time, so their arrivals at that stop repeat with the
 * signal's cycle, at the same clock times every day.
 */
export interface SignalPhaseSettings {
  /** Length of a time-of-day slot in seconds. Each slot has its own cycle, because signal plans change. */
  slotS: number;
  /** Arrivals this far before and after a slot count towards its cycle and phases. */
  marginS: number;
  minCycleS: number;
  maxCycleS: number;
  /** Minimum number of arrivals in a slot's window before a cycle is looked for. */
  minArrivals: number;
  /**
   * Least Rayleigh statistic n·R̄² of the best cycle. Without a cycle it is about exponentially
   * distributed with mean 1, so the highest of the about 2,000 trial cycles is near ln 2000 ≈ 8.
   */
  minRayleigh: number;
  /** Standard deviation in seconds of the Gaussian kernel that smooths the arrival phases. */
  kernelS: number;
  /** Share of a uniform density mixed in, so no phase is ruled out. */
  uniformShare: number;
}

export const DEFAULT_SIGNAL_PHASE_SETTINGS: SignalPhaseSettings = {
  slotS: 3600,
  marginS: 7200,
  minCycleS: 40,
  maxCycleS: 240,
  minArrivals: 60,
  minRayleigh: 20,
  kernelS: 4,
  uniformShare: 0.05,
};

/** Arrival density over one cycle at one stop in one time-of-day slot. */
export interface PhaseDensity {
  cycleS: number;
  /** Second of day that phase 0 is counted from. */
  originS: number;
  /** Density per whole second of phase, mean 1. */
  density: Float64Array;
  /** Mean resultant length R̄ of the arrival phases, 0 (spread) to 1 (one instant). */
  concentration: number;
}

/**
 * The densities of SignalPhases in flat columns, by entry stop · slotCount + slot. A slot without a
 * cycle has cycleS NaN and no density values.
 */
export interface SignalPhasesParts {
  /** Stop keys (route direction, route and stop) with a cycle in at least one slot. */
  stopKeys: readonly string[];
  slotCount: number;
  cycleS: Float64Array;
  originS: Float64Array;
  concentration: Float64Array;
  /** The density of entry e is density[densityStart[e]] to density[densityStart[e + 1] − 1]. */
  densityStart: Int32Array;
  density: Float64Array;
}

/**
 * Returns the densities of flat columns by stop key, each density a view into `parts.density`.
 * Throws a RangeError where the column lengths do not fit together.
 */
function unpackPhases(parts: SignalPhasesParts): Map<string, (PhaseDensity | undefined)[]> {
  const { stopKeys, slotCount, cycleS, originS, concentration, densityStart, density } = parts;
  const entries = stopKeys?.length * slotCount;
  const fits = Number.isInteger(entries) && cycleS?.length === entries && originS?.length === entries && concentration?.length === entries && densityStart?.length === entries + 1 && densityStart[entries] === density?.length;
  if (!fits) throw new RangeError(`invalid signal phase parts: ${stopKeys?.length} stops of ${slotCount} slots, ${cycleS?.length} cycles, ${densityStart?.length} density starts and ${density?.length} density values`);
  const byStop = new Map<string, (PhaseDensity | undefined)[]>();
  stopKeys.forEach((key, stop) => {
    const slots: (PhaseDensity | undefined)[] = [];
    for (let slot = 0; slot < slotCount; slot += 1) {
      const entry = stop * slotCount + slot;
      const cycle = cycleS[entry]!;
      slots.push(Number.isNaN(cycle) ? undefined : { cycleS: cycle, originS: originS[entry]!, density: density.subarray(densityStart[entry], densityStart[entry + 1]), concentration: concentration[entry]! });
    }
    byStop.set(key, slots);
  });
  return byStop;
}

/**
 * Trial frequencies are spaced so the phase of the window's farthest arrival moves by this share of
 * a cycle. Steps of 0.02 found the same cycles on the Suzhou recordings, five times slower.
 */
const PHASE_STEP = 0.1;
/** Cycles on each side of a prediction that phaseAdjusted weighs at most. */
const MAX_REACH_CYCLES = 20;
/** Peaks of the coarse scan that are refined over the whole window. */
const REFINED_PEAKS = 3;

/**
 * The arrival phases of every stop and time-of-day slot whose arrivals repeat with a cycle, learned
 * from history trips. The phase is the second of day, so a cycle found over several days means
 * signals that keep the same clock times day after day.
 */
export class SignalPhases {
  private readonly byStop = new Map<string, (PhaseDensity | undefined)[]>();

  /** Searches the trips' arrivals for cycles, or takes the densities that toParts() of other phases returned. */
  constructor(
    trips: readonly ObservedTrip[] | SignalPhasesParts,
    readonly settings: SignalPhaseSettings = DEFAULT_SIGNAL_PHASE_SETTINGS,
  ) {
    checkSettings(settings);
    if (!Array.isArray(trips)) {
      this.byStop = unpackPhases(trips as SignalPhasesParts);
      return;
    }
    // Each arrival's second of day, and the second of day of its trip's first recorded stop.
    const byKey = new Map<string, { times: number[]; firsts: number[] }>();
    for (const trip of trips) {
      const first = trip.arrivals[0] === undefined ? Number.NaN : trip.arrivals[0].time - trip.dayStart;
      for (const arrival of trip.arrivals) {
        const time = arrival.time - trip.dayStart;
        if (!Number.isFinite(time) || !Number.isFinite(first)) continue;
        const key = stopKey(trip.routeId, trip.directionId, arrival.stopId);
        let lists = byKey.get(key);
        if (!lists) byKey.set(key, (lists = { times: [], firsts: [] }));
        lists.times.push(time);
        lists.firsts.push(first);
      }
    }
    const slotCount = Math.ceil(86_400 / settings.slotS) + 1;
    for (const [key, { times, firsts }] of byKey) {
      const order = Uint32Array.from(times.keys()).sort((a, b) => times[a]! - times[b]!);
      const sorted = Float64Array.from(order, (index) => times[index]!);
      const sortedFirsts = Float64Array.from(order, (index) => firsts[index]!);
      const slots: (PhaseDensity | undefined)[] = [];
      for (let slot = 0; slot < slotCount; slot += 1) slots.push(findPhaseDensity(sorted, sortedFirsts, slot, settings));
      if (slots.some(Boolean)) this.byStop.set(key, slots);
    }
  }

  /**
   * Returns every density in flat columns, which `new SignalPhases(parts, settings)` takes back. The
   * typed arrays are new, each with an ArrayBuffer of its own, so a message can transfer them.
   */
  toParts(): SignalPhasesParts {
    const stopKeys = [...this.byStop.keys()];
    const slotCount = this.byStop.values().next().value?.length ?? 0;
    const entries = stopKeys.length * slotCount;
    const parts: SignalPhasesParts = { stopKeys, slotCount, cycleS: new Float64Array(entries).fill(Number.NaN), originS: new Float64Array(entries), concentration: new Float64Array(entries), densityStart: new Int32Array(entries + 1), density: new Float64Array(0) };
    let size = 0;
    stopKeys.forEach((key, stop) => {
      this.byStop.get(key)!.forEach((phases, slot) => {
        const entry = stop * slotCount + slot;
        parts.densityStart[entry] = size;
        if (phases === undefined) return;
        parts.cycleS[entry] = phases.cycleS;
        parts.originS[entry] = phases.originS;
        parts.concentration[entry] = phases.concentration;
        size += phases.density.length;
      });
    });
    parts.densityStart[entries] = size;
    parts.density = new Float64Array(size);
    stopKeys.forEach((key, stop) => {
      this.byStop.get(key)!.forEach((phases, slot) => {
        if (phases !== undefined) parts.density.set(phases.density, parts.densityStart[stop * slotCount + slot]!);
      });
    });
    return parts;
  }

  /** Stops with a cycle in at least one slot. */
  get stopCount(): number {
    return this.byStop.size;
  }

  /** Returns the density at a stop around a second of day, or undefined where arrivals show no cycle. */
  at(routeId: string, directionId: number, stopId: string, secondsOfDay: number): PhaseDensity | undefined {
    return this.slotsOf(routeId, directionId, stopId)?.[Math.floor(secondsOfDay / this.settings.slotS)];
  }

  /** Returns a stop's densities by time-of-day slot (`slotS` each), or undefined if no slot has a cycle. */
  slotsOf(routeId: string, directionId: number, stopId: string): readonly (PhaseDensity | undefined)[] | undefined {
    return this.byStop.get(stopKey(routeId, directionId, stopId));
  }
}

/** Throws a RangeError naming the first setting that would make the search find nothing or fail. */
function checkSettings(settings: SignalPhaseSettings): void {
  const { slotS, marginS, minCycleS, maxCycleS, minArrivals, minRayleigh, kernelS, uniformShare } = settings;
  const problems: [boolean, string][] = [
    [slotS > 0 && slotS <= 86_400, `slotS ${slotS}: expected more than 0 and at most 86400`],
    [marginS >= 0, `marginS ${marginS}: expected 0 or more`],
    [minCycleS > 0 && minCycleS < maxCycleS && Number.isFinite(maxCycleS), `cycle range ${minCycleS} to ${maxCycleS} s: expected 0 < minCycleS < maxCycleS`],
    [minArrivals >= 2, `minArrivals ${minArrivals}: expected 2 or more`],
    [minRayleigh > 0, `minRayleigh ${minRayleigh}: expected more than 0`],
    [kernelS > 0, `kernelS ${kernelS}: expected more than 0`],
    [uniformShare >= 0 && uniformShare < 1, `uniformShare ${uniformShare}: expected 0 or more and less than 1`],
  ];
  const failed = problems.find(([valid]) => !valid);
  if (failed) throw new RangeError(`invalid signal phase setting ${failed[1]}`);
}

/**
 * Returns the density of a stop's arrivals near one slot, if they repeat with a cycle. `firsts`
 * holds, for each arrival in `sorted`, the time of its trip's first recorded stop.
 */
function findPhaseDensity(sorted: Float64Array, firsts: Float64Array, slot: number, settings: SignalPhaseSettings): PhaseDensity | undefined {
  const start = slot * settings.slotS;
  const from = lowerBound(sorted, start - settings.marginS);
  const to = lowerBound(sorted, start + settings.slotS + settings.marginS);
  const count = to - from;
  if (count < settings.minArrivals) return undefined;
  // Phases count from the window's middle, so an error in the cycle moves them least.
  const originS = start + settings.slotS / 2;
  const offsets = new Float64Array(count);
  let span = 0;
  for (let index = 0; index < count; index += 1) {
    offsets[index] = sorted[from + index]! - originS;
    span = Math.max(span, Math.abs(offsets[index]!));
  }
  const best = searchFrequency(offsets, span, settings);
  if (best.rayleigh < settings.minRayleigh) return undefined;
  // Trips that leave at a regular headway of 40 to 240 s arrive with that cycle at every stop. A
  // cycle that the trips' first stop times show as well comes from the timetable, not from a signal.
  // NOTE: a real signal whose cycle divides a regular headway (120 s with buses every 4 minutes) is
  // left out too.
  if (rayleighAt(firsts.subarray(from, to), best.frequency) >= settings.minRayleigh) return undefined;
  const cycleS = 1 / best.frequency;
  return { cycleS, originS, density: smoothedDensity(offsets, cycleS, settings), concentration: Math.sqrt(best.rayleigh / count) };
}

/**
 * Finds the frequency whose phases of the window's arrivals line up best. A first scan of the whole
 * range takes only the arrivals inside the slot, with steps as coarse as its shorter span allows.
 * The best few frequencies it finds are then refined over the whole window. On the Suzhou
 * recordings this found the same cycles as one fine scan of the window, in a sixth of the time.
 */
function searchFrequency(offsets: Float64Array, span: number, settings: SignalPhaseSettings): Frequency {
  const low = 1 / settings.maxCycleS;
  const high = 1 / settings.minCycleS;
  const coarseHalf = settings.slotS / 2;
  const coarse = offsets.filter((offset) => Math.abs(offset) <= coarseHalf);
  if (coarseHalf >= span || coarse.length < 2) return scanFrequencies(offsets, low, high, PHASE_STEP / Math.max(span, 1), 1)[0] ?? { frequency: low, rayleigh: 0 };
  const coarseStep = PHASE_STEP / coarseHalf;
  const fineStep = PHASE_STEP / Math.max(span, 1);
  let best: Frequency = { frequency: low, rayleigh: 0 };
  for (const candidate of scanFrequencies(coarse, low, high, coarseStep, REFINED_PEAKS)) {
    const refined = scanFrequencies(offsets, Math.max(low, candidate.frequency - 2 * coarseStep), Math.min(high, candidate.frequency + 2 * coarseStep), fineStep, 1)[0];
    if (refined && refined.rayleigh > best.rayleigh) best = refined;
  }
  return best;
}

interface Frequency {
  frequency: number;
  rayleigh: number;
}

/**
 * Scans frequencies from `low` to `high` in steps of `step` for the `peaks` local maxima, highest
 * first, of the Rayleigh statistic |Σ exp(2πi·f·t)|² / n of the offsets' phases. Each arrival's
 * phasor turns by a fixed angle per step, so the scan multiplies instead of calling sin and cos.
 */
function scanFrequencies(offsets: Float64Array, low: number, high: number, step: number, peaks: number): Frequency[] {
  const n = offsets.length;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const stepRe = new Float64Array(n);
  const stepIm = new Float64Array(n);
  for (let index = 0; index < n; index += 1) {
    const t = offsets[index]!;
    re[index] = Math.cos(2 * Math.PI * low * t);
    im[index] = Math.sin(2 * Math.PI * low * t);
    stepRe[index] = Math.cos(2 * Math.PI * step * t);
    stepIm[index] = Math.sin(2 * Math.PI * step * t);
  }

  const found: Frequency[] = [];
  let previous = 0;
  let rising = true;
  const steps = Math.floor((high - low) / step);
  for (let k = 0; k <= steps; k += 1) {
    let sumRe = 0;
    let sumIm = 0;
    for (let index = 0; index < n; index += 1) {
      const r = re[index]!;
      const i = im[index]!;
      sumRe += r;
      sumIm += i;
      re[index] = r * stepRe[index]! - i * stepIm[index]!;
      im[index] = r * stepIm[index]! + i * stepRe[index]!;
    }
    const rayleigh = (sumRe * sumRe + sumIm * sumIm) / n;
    // A local maximum is where the statistic stops rising; the last step counts if still rising.
    if (k > 0 && rising && rayleigh < previous) keepPeak(found, { frequency: low + (k - 1) * step, rayleigh: previous }, peaks);
    rising = rayleigh >= previous;
    previous = rayleigh;
  }
  if (rising) keepPeak(found, { frequency: low + steps * step, rayleigh: previous }, peaks);
  return found;
}

/** Returns the Rayleigh statistic |Σ exp(2πi·f·t)|² / n of the times' phases at one frequency. */
function rayleighAt(times: Float64Array, frequency: number): number {
  let sumRe = 0;
  let sumIm = 0;
  for (const t of times) {
    sumRe += Math.cos(2 * Math.PI * frequency * t);
    sumIm += Math.sin(2 * Math.PI * frequency * t);
  }
  return times.length === 0 ? 0 : (sumRe * sumRe + sumIm * sumIm) / times.length;
}

/** Inserts a peak into the list, highest first, keeping at most `peaks` of them. */
function keepPeak(found: Frequency[], peak: Frequency, peaks: number): void {
  if (found.length === peaks && found.at(-1)!.rayleigh >= peak.rayleigh) return;
  let index = found.length;
  while (index > 0 && found[index - 1]!.rayleigh < peak.rayleigh) index -= 1;
  found.splice(index, 0, peak);
  if (found.length > peaks) found.pop();
}

/** Returns the Gaussian-smoothed density of the offsets' phases per whole second of the cycle, mixed with a uniform one. */
function smoothedDensity(offsets: Float64Array, cycleS: number, settings: SignalPhaseSettings): Float64Array {
  const size = Math.max(1, Math.round(cycleS));
  const counts = new Float64Array(size);
  for (const t of offsets) {
    const bin = Math.floor(positiveModulo(t, cycleS) * (size / cycleS)) % size;
    counts[bin] = counts[bin]! + 1;
  }
  const reach = Math.ceil(3 * settings.kernelS);
  const kernel = Array.from({ length: 2 * reach + 1 }, (_, index) => Math.exp(-0.5 * ((index - reach) / settings.kernelS) ** 2));
  const density = new Float64Array(size);
  for (let bin = 0; bin < size; bin += 1) {
    let sum = 0;
    for (let shift = -reach; shift <= reach; shift += 1) sum += counts[positiveModulo(bin + shift, size)]! * kernel[shift + reach]!;
    density[bin] = sum;
  }
  const mean = density.reduce((total, value) => total + value, 0) / size;
  for (let bin = 0; bin < size; bin += 1) density[bin] = settings.uniformShare + (1 - settings.uniformShare) * (density[bin]! / mean);
  return density;
}

/** Returns the density of arrivals at a second of day, mean 1 over a cycle. */
export function densityAt(phases: PhaseDensity, secondsOfDay: number): number {
  const size = phases.density.length;
  const bin = Math.floor(positiveModulo(secondsOfDay - phases.originS, phases.cycleS) * (size / phases.cycleS));
  return phases.density[Math.min(size - 1, bin)]!;
}

function positiveModulo(value: number, modulus: number): number {
  const result = value % modulus;
  return result < 0 ? result + modulus : result;
}

function lowerBound(sorted: Float64Array, value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

function stopKey(routeId: string, directionId: number, stopId: string): string {
  return `${directionId}|${routeId}|${stopId}`;
}

/**
 * Moves a predicted arrival to the median of the Laplace distribution around it (scale `scaleS`)
 * weighted by the stop's arrival density, so a bus that would reach a signal in its red time is
 * predicted at the next green. Returns the new prediction in seconds of day.
 */
export function phaseAdjusted(phases: PhaseDensity, predictedS: number, scaleS: number): number {
  if (!(scaleS > 0)) return predictedS;
  // Over many cycles the weights cover every phase alike and move nothing more, so the reach stops
  // there, which also bounds the work of a huge spread.
  const reach = Math.min(Math.ceil(4 * scaleS), MAX_REACH_CYCLES * Math.ceil(phases.cycleS));
  const count = 2 * reach + 1;
  if (scratch.length < count) scratch = new Float64Array(Math.max(count, 2 * scratch.length));
  const weights = scratch;
  const { density, cycleS } = phases;
  const binsPerSecond = density.length / cycleS;
  const last = density.length - 1;
  // The phase and the Laplace weight advance by recurrence, one second per step, instead of a
  // modulo and an exponential per step: this runs for every target at a stop with a cycle.
  let phase = positiveModulo(predictedS - reach - phases.originS, cycleS);
  let prior = Math.exp(-reach / scaleS);
  const rise = Math.exp(1 / scaleS);
  let total = 0;
  for (let index = 0; index < count; index += 1) {
    const weight = prior * density[Math.min(last, Math.floor(phase * binsPerSecond))]!;
    weights[index] = weight;
    total += weight;
    phase += 1;
    if (phase >= cycleS) phase -= cycleS;
    prior = index < reach ? prior * rise : prior / rise;
  }

  let sum = 0;
  for (let index = 0; index < count; index += 1) {
    const next = sum + weights[index]!;
    if (next >= total / 2) return predictedS - reach + index - 0.5 + (total / 2 - sum) / weights[index]!;
    sum = next;
  }
  return predictedS;
}

/** Weights of phaseAdjusted, kept between calls so a refresh allocates none per target. */
let scratch = new Float64Array(1024);

/**
 * Moves each travel time of one request's targets, in route order, towards its stop's arrival
 * phases with the spread k·√T (`scale` k), in place. A share `carry` of the last move also shifts
 * the later targets, because a bus that waits for a green reaches the stops behind it later too.
 * A move never puts a target before the request or before the target ahead of it, unless the
 * travel times given were in that order already, because the online predictor and the rider pages
 * list a trip's stops in order.
 * `densityOf` returns the target's density at a second of day, or undefined.
 */
export function moveTowardsPhases(travelS: number[], requestSecondsOfDay: number, scale: number, carry: number, densityOf: (index: number, secondsOfDay: number) => PhaseDensity | undefined): void {
  let move = 0;
  // The request itself is the target before the first one, at travel time 0.
  let previousBase = 0;
  let previousMoved = 0;
  for (let index = 0; index < travelS.length; index += 1) {
    const base = travelS[index]!;
    if (!Number.isFinite(base)) continue;
    const shifted = base + carry * move;
    const phases = densityOf(index, requestSecondsOfDay + shifted);
    let moved = shifted;
    if (phases) {
      moved = phaseAdjusted(phases, requestSecondsOfDay + shifted, scale * Math.sqrt(Math.max(shifted, 1))) - requestSecondsOfDay;
      move = moved - base;
    }
    if (base >= previousBase) moved = Math.max(moved, previousMoved);
    travelS[index] = moved;
    previousBase = base;
    previousMoved = moved;
  }
}
