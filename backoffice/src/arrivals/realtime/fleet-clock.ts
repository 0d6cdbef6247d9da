/**
 * Terminals heard from within this many seconds of receive time take part in the estimate. It
 * equals the time after which the predictor stops counting a bus as active.
 */
export const FLEET_CLOCK_WINDOW_S = 600;
/**
 * Greatest difference (s) from the median offset at which a terminal's offset still agrees with
 * it. GPS/BeiDou clocks agree to well under a second, so the spread is upload delay: a terminal
 * sends its fixes every 10 s by default.
 */
export const FLEET_CLOCK_AGREEMENT_S = 60;
/** Minimum number of terminals that must agree before the fleet's clock is trusted over the back office's. */
export const MIN_AGREEING_TERMINALS = 3;
/**
 * A receive time this far after now (s) is allowed for another process's clock reading. A later
 * one was taken before the back office's clock was set back, so its offset is out of date.
 */
const RECEIVED_AHEAD_TOLERANCE_S = 60;
/** Maximum number of terminals tracked at once, so that a flood of terminal ids cannot grow the map without bound. */
const MAX_TERMINALS = 100_000;

/** The fleet's consensus of its clocks against the back office's clock. */
export interface FleetClockEstimate {
  /** Fleet time minus back-office time (s): positive when the back office's clock is behind. */
  offsetS: number;
  /** Terminals heard from in the window. */
  terminals: number;
  /** Terminals whose offset is within FLEET_CLOCK_AGREEMENT_S of the median. */
  agreeing: number;
}

/** Offset of a terminal's latest upload. */
interface TerminalOffset {
  receivedAt: number;
  offsetS: number;
}

/**
 * Estimates the back office's clock error from the GPS/BeiDou times of the terminals' fixes.
 * Each terminal gives one offset, the fix time minus the receive time of its latest upload, and
 * the estimate is the median over the terminals heard from in the window. The estimate exists only
 * when at least MIN_AGREEING_TERMINALS terminals, and more than half of those heard from, agree
 * with the median. A minority of terminals with wrong clocks therefore cannot move it, whatever
 * their error. Terminals count, not vehicles, because a terminal may only publish under its own
 * id but may name any vehicle.
 * NOTE: the offsets include upload delay, so the estimate is late by a few seconds, and it
 * assumes the receive times come from the same clock as the `now` passed to estimate().
 */
export class FleetClock {
  private readonly terminals = new Map<string, TerminalOffset>();

  /**
   * Adds one fix's offset. Fixes must come in the order they were stored. Of one upload the
   * newest fix counts, because it waited least before the upload. A later upload replaces the
   * terminal's offset.
   */
  add(terminalId: string, fixTime: number, receivedAt: number): void {
    const offsetS = fixTime - receivedAt;
    if (!Number.isFinite(offsetS)) return;

    const latest = this.terminals.get(terminalId);
    if (latest === undefined) {
      if (this.terminals.size >= MAX_TERMINALS) return;
      this.terminals.set(terminalId, { receivedAt, offsetS });
    } else if (latest.receivedAt === receivedAt) {
      latest.offsetS = Math.max(latest.offsetS, offsetS);
    } else {
      latest.receivedAt = receivedAt;
      latest.offsetS = offsetS;
    }
  }

  /**
   * Returns the consensus offset at `now` (Unix seconds of the back office's clock), or undefined
   * without one. Forgets the terminals whose latest upload is outside the window.
   */
  estimate(now: number): FleetClockEstimate | undefined {
    const offsets: number[] = [];
    for (const [terminalId, latest] of this.terminals) {
      if (latest.receivedAt < now - FLEET_CLOCK_WINDOW_S || latest.receivedAt > now + RECEIVED_AHEAD_TOLERANCE_S) {
        this.terminals.delete(terminalId);
        continue;
      }
      offsets.push(latest.offsetS);
    }
    if (offsets.length < MIN_AGREEING_TERMINALS) return undefined;

    offsets.sort((a, b) => a - b);
    const median = offsets[Math.floor((offsets.length - 1) / 2)]!;
    // The offsets within the agreement of the median are a run of the sorted array. Any run of
    // more than half the offsets contains the median, so a majority whose offsets lie within
    // FLEET_CLOCK_AGREEMENT_S of each other is always found.
    const agreeing = offsets.filter((offsetS) => Math.abs(offsetS - median) <= FLEET_CLOCK_AGREEMENT_S);
    if (agreeing.length < MIN_AGREEING_TERMINALS || agreeing.length * 2 <= offsets.length) return undefined;

    return { offsetS: medianOfSorted(agreeing), terminals: offsets.length, agreeing: agreeing.length };
  }

  /**
   * Returns whether at least one terminal was heard from in the window at `now` and every such
   * terminal's offset lies within FLEET_CLOCK_AGREEMENT_S of `offsetS`. Fewer terminals than a
   * consensus needs can confirm an offset found before, but cannot set one.
   */
  confirms(offsetS: number, now: number): boolean {
    let inWindow = 0;
    for (const latest of this.terminals.values()) {
      if (latest.receivedAt < now - FLEET_CLOCK_WINDOW_S || latest.receivedAt > now + RECEIVED_AHEAD_TOLERANCE_S) continue;
      if (Math.abs(latest.offsetS - offsetS) > FLEET_CLOCK_AGREEMENT_S) return false;
      inWindow += 1;
    }
    return inWindow > 0;
  }
}

function medianOfSorted(values: readonly number[]): number {
  const middle = values.length >> 1;
  return values.length % 2 === 1 ? values[middle]! : (values[middle - 1]! + values[middle]!) / 2;
}
