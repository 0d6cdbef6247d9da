import type { TapOutcome } from '@busfare/terminal';
import { cardNumbersOf } from '../cards/population.js';
import type { BenchCity } from './bench-city.js';
import { waitFor } from './bench-city.js';

/**
 * Presents every card that has an open in-doubt record once more at the bus that holds the
 * record, as its rider would on the next trip, so the card's transaction proof settles it.
 * Returns the outcomes of those taps.
 */
export async function representInDoubtCards(city: BenchCity, maxRounds = 3): Promise<{ terminalId: string; outcome: TapOutcome }[]> {
  const outcomes: { terminalId: string; outcome: TapOutcome }[] = [];
  const cardsByAsn = new Map(city.cards.flatMap((entry) => cardNumbersOf(entry.card).map((asn) => [asn, entry.card] as const)));
  for (let round = 0; round < maxRounds; round += 1) {
    let presented = 0;
    for (const bus of city.buses) {
      for (const open of bus.store.listOpenInDoubt()) {
        const card = cardsByAsn.get(open.record.card.asn);
        if (!card) continue;
        outcomes.push({ terminalId: bus.terminalId, outcome: await bus.tap(card) });
        presented += 1;
      }
    }
    if (presented === 0) break;
  }
  return outcomes;
}

/** Waits until every terminal's records are acknowledged by the back office. */
export async function drainBacklogs(city: BenchCity, timeoutMs: number): Promise<void> {
  for (const bus of city.buses) bus.uplink.notify();
  await waitFor(() => city.buses.every((bus) => bus.store.backlog() === 0), timeoutMs, 'every terminal backlog to drain');
}
