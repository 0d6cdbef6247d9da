import type { Logger } from '../logger.js';
import type { Clock } from '../ports/clock.js';
import type { DriverCard, DriverCardHandler } from '../tap/driver-card.js';
import type { TapResult } from '../tap/tap-outcome.js';
import type { DriverShift } from './driver-shift.js';

/** Seconds after a driver's own card tap in which a second tap of that card signs off, by default. */
export const DEFAULT_SIGN_OFF_TAP_WINDOW_SECONDS = 15;

/**
 * Milliseconds after a tap in which a second tap of the same card is taken as the same
 * presentation, because a card at the edge of the field can be seen twice. Such a repeat neither
 * signs off after the first tap nor signs on again after a sign-off.
 */
const SAME_PRESENTATION_MS = 2_000;

export interface DriverCardSignOnOptions {
  shift: DriverShift;
  clock: Clock;
  logger: Logger;
  /** Seconds in which the second tap of the signed-on driver's card signs off (default 15). */
  signOffTapWindowSeconds?: number;
  /**
   * Rider cards while no driver is signed on: 'accept' (default) takes their fares in no shift,
   * and 'reject' shows "请签到" and debits nothing, as readers that require a sign-on do.
   */
  riderTapsWithoutShift?: 'accept' | 'reject';
}

/**
 * Sign-on and sign-off by the driver's staff card. With no shift open, a driver card signs its
 * driver on with the shift starting now. The signed-on driver's own card signs off only on a
 * second tap 2 s to `signOffTapWindowSeconds` after the first, so one accidental tap cannot end
 * the shift. The first tap only requests the second. A repeat within 2 s of a sign-off is the same
 * presentation, so it shows the sign-off again rather than signing on. Another driver's card is
 * rejected until the shift is signed off. The sign-off button on the screen works as before.
 */
export class DriverCardSignOn implements DriverCardHandler {
  private armed?: { shiftId: string; atMs: number };
  /** The last sign-off by card; a repeat within the same presentation shows it again. */
  private signedOff?: { driverId: string; atMs: number };

  constructor(private readonly options: DriverCardSignOnOptions) {}

  acceptsRiderTaps(): boolean {
    return this.options.riderTapsWithoutShift !== 'reject' || this.options.shift.current() !== undefined;
  }

  tapDriverCard(card: DriverCard): TapResult {
    const { shift, clock, logger } = this.options;
    const open = shift.current();
    const nowMs = clock.monotonicMs();
    const repeat = this.signedOff;
    if (!open && repeat?.driverId === card.driverId && nowMs - repeat.atMs < SAME_PRESENTATION_MS) {
      return { status: 'accepted', promptId: 'driver-signed-off', driverCard: { action: 'signed-off', driverId: card.driverId } };
    }
    if (!open) {
      this.armed = undefined;
      shift.signOn(card.driverId, 'card');
      return { status: 'accepted', promptId: 'driver-signed-on', driverCard: { action: 'signed-on', driverId: card.driverId } };
    }
    if (open.driverId !== card.driverId) {
      logger.info({ shiftId: open.shiftId, signedOn: open.driverId, tapped: card.driverId }, 'driver card of another driver rejected');
      return { status: 'refused', promptId: 'driver-sign-off-first', reason: `driver ${open.driverId} is signed on`, driverCard: { action: 'rejected', driverId: card.driverId } };
    }

    const windowMs = (this.options.signOffTapWindowSeconds ?? DEFAULT_SIGN_OFF_TAP_WINDOW_SECONDS) * 1000;
    const armed = this.armed?.shiftId === open.shiftId ? this.armed : undefined;
    const sinceArmedMs = armed ? nowMs - armed.atMs : undefined;
    if (sinceArmedMs !== undefined && sinceArmedMs >= SAME_PRESENTATION_MS && sinceArmedMs <= windowMs) {
      this.armed = undefined;
      shift.signOff('card');
      this.signedOff = { driverId: card.driverId, atMs: nowMs };
      return { status: 'accepted', promptId: 'driver-signed-off', driverCard: { action: 'signed-off', driverId: card.driverId } };
    }
    // A repeat within the same presentation keeps the first tap's time, so the window is not pushed on.
    if (sinceArmedMs === undefined || sinceArmedMs > windowMs) this.armed = { shiftId: open.shiftId, atMs: nowMs };
    return { status: 'accepted', promptId: 'driver-tap-again-to-sign-off', driverCard: { action: 'sign-off-armed', driverId: card.driverId } };
  }
}
