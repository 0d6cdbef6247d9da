/** Clock drift allowed between readers: a boarding dated up to this far after a tap counts as made at the tap's time. */
export const MAX_BOARDING_CLOCK_AHEAD_MS = 10 * 60_000;

/**
 * Returns whether a boarding is dated further after a tap than readers' clocks drift apart. Such
 * a boarding is taken as no boarding: its time cannot be trusted, so neither the journey window
 * nor the missing tap-off can be judged, and a wrong clock, the usual cause, should not cost the
 * rider the longest journey.
 */
export function isBoardingAfterTap(boardedAtMs: number, tapAtMs: number): boolean {
  return boardedAtMs - tapAtMs > MAX_BOARDING_CLOCK_AHEAD_MS;
}
