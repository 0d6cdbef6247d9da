import { BoundedMap } from '../collections/bounded-map.js';
import type { RememberedTap } from './fare-input.js';

/** The taps of each card that the fare engine needs to see again. */
export interface RecentTaps {
  /** This card's taps, oldest first. */
  recent(cardKey: string): readonly RememberedTap[];
  remember(cardKey: string, tap: RememberedTap): void;
}

export interface MemoryRecentTapsOptions {
  /** Cards kept; the card tapped least recently goes first. */
  maxCards?: number;
  /** Taps kept per card, newest kept. */
  maxTapsPerCard?: number;
}

/**
 * Recent taps in memory, bounded in cards and in taps per card. Eight taps per card cover an open
 * boarding plus companions and transfers; 20,000 cards cover several days of one bus door.
 */
export class MemoryRecentTaps implements RecentTaps {
  private readonly byCard: BoundedMap<string, RememberedTap[]>;
  private readonly maxCards: number;
  private readonly maxTapsPerCard: number;

  constructor(options: MemoryRecentTapsOptions = {}) {
    this.maxCards = options.maxCards ?? 20_000;
    this.maxTapsPerCard = options.maxTapsPerCard ?? 8;
    if (!Number.isInteger(this.maxCards) || this.maxCards < 1) throw new RangeError(`maxCards must be a positive integer, got ${this.maxCards}`);
    if (!Number.isInteger(this.maxTapsPerCard) || this.maxTapsPerCard < 2) throw new RangeError(`maxTapsPerCard must be an integer of at least 2, got ${this.maxTapsPerCard}`);
    this.byCard = new BoundedMap(this.maxCards);
  }

  get size(): number {
    return this.byCard.size;
  }

  recent(cardKey: string): readonly RememberedTap[] {
    return this.byCard.get(cardKey) ?? [];
  }

  remember(cardKey: string, tap: RememberedTap): void {
    const taps = this.byCard.get(cardKey) ?? [];
    // Setting a card again moves it to the newest place, so the card tapped least recently goes first.
    this.byCard.set(cardKey, [...taps, tap].slice(-this.maxTapsPerCard));
  }
}
