import type { CardType, ShiftCounters } from '@busfare/shared-protocol';
import type { TapOutcome } from '../tap/tap-outcome.js';

export function emptyShiftCounters(): ShiftCounters {
  return { taps: 0, accepted: 0, refused: 0, inDoubt: 0, failed: 0, amountFen: 0, byCardType: {} };
}

/**
 * Adds one tap outcome to the counters. Accepted and recovered taps count as accepted with their
 * fare; a recovered tap carries the fare of the torn debit that its proof settled.
 */
export function countTap(counters: ShiftCounters, outcome: TapOutcome): void {
  counters.taps += 1;
  switch (outcome.status) {
    case 'accepted':
    case 'recovered': {
      const amountFen = outcome.amountFen ?? 0;
      counters.accepted += 1;
      counters.amountFen += amountFen;
      const cardType: CardType = outcome.cardType ?? 'ordinary';
      const entry = counters.byCardType[cardType] ?? { taps: 0, amountFen: 0 };
      entry.taps += 1;
      entry.amountFen += amountFen;
      counters.byCardType[cardType] = entry;
      break;
    }
    case 'refused':
      counters.refused += 1;
      break;
    case 'in-doubt':
      counters.inDoubt += 1;
      break;
    case 'failed':
      counters.failed += 1;
      break;
  }
}
