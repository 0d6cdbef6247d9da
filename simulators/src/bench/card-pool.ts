import type { SeededRandom } from '../cards/seeded-random.js';

/**
 * The cards of a bench city's riders. A card is in one rider's hand at a time, so two buses never
 * present the same card at once.
 */
export class CardPool<Card> {
  private readonly free: Card[];
  private readonly inUse = new Set<Card>();

  constructor(readonly all: readonly Card[]) {
    this.free = [...all];
  }

  /** Takes a random free card, or undefined when every card is in use. */
  borrow(random: SeededRandom): Card | undefined {
    if (this.free.length === 0) return undefined;
    const index = random.integer(0, this.free.length - 1);
    const [card] = this.free.splice(index, 1);
    this.inUse.add(card as Card);
    return card;
  }

  release(card: Card): void {
    if (!this.inUse.delete(card)) return;
    this.free.push(card);
  }
}
