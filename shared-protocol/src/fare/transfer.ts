import type { CardType, FareTableBody } from '../schemas/fare-table.js';
import type { RememberedTap } from './fare-input.js';

/**
 * The transfer ordinal of a new journey tap: one more than the previous journey tap's when that
 * tap was within the window, on another route (unless same-route transfers count), and the
 * chain has not reached maxTransfers; 0 otherwise.
 */
export function transferOrdinal(table: FareTableBody, cardType: CardType, route: string, nowMs: number, previous: RememberedTap | undefined): number {
  const rule = table.transfer;
  if (!rule || !previous || !rule.cardTypes.includes(cardType)) return 0;
  if (nowMs - previous.atMs > rule.windowMinutes * 60_000 || nowMs < previous.atMs) return 0;
  if (!rule.sameRoute && previous.route === route) return 0;
  if (previous.transferOrdinal >= rule.maxTransfers) return 0;
  return previous.transferOrdinal + 1;
}

/** Applies the step of transfer `ordinal` to an already discounted fare. */
export function applyTransfer(table: FareTableBody, ordinal: number, fareFen: number, applyRate: (fen: number, ratePercent: number) => number): number {
  const steps = table.transfer?.steps;
  if (ordinal === 0 || !steps || steps.length === 0) return fareFen;
  const step = steps[Math.min(ordinal, steps.length) - 1]!;
  return Math.max(0, applyRate(fareFen, step.ratePercent) - step.discountFen);
}
