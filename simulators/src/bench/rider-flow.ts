import type { TapOutcome } from '@busfare/terminal';
import type { SeededRandom } from '../cards/seeded-random.js';
import type { CardPool } from './card-pool.js';

/** Where on the wire a rider pulls the card away, for torn taps. */
export interface TearPlan {
  /** Zero-based index of the card APDU at which the card leaves the field. */
  apduIndex: number;
  phase: 'before-card' | 'after-card';
}

/** What a rider flow needs from a bus. */
export interface TappableBus<Card> {
  readonly terminalId: string;
  tap(card: Card, tear?: TearPlan): Promise<TapOutcome>;
}

export interface RiderFlowOptions {
  /** Mean boardings per second at this door (peak hour: about one every 2 s). */
  ratePerSecond: number;
  /** Share of taps in which the rider pulls the card away mid-transaction. */
  tearProbability: number;
  /** Share of riders told "请重刷" who tap again at once. */
  retapProbability: number;
  /** Card APDUs in a purchase, to choose where a torn tap breaks. */
  purchaseApdus: number;
  random: SeededRandom;
  onTap: (terminalId: string, outcome: TapOutcome) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Riders boarding one bus: arrivals form a Poisson process, each rider taps a card, a few pull the
 * card away mid-tap and most of those tap again when the reader asks.
 */
export class RiderFlow<Card> {
  private running = false;
  private loop?: Promise<void>;

  constructor(
    private readonly bus: TappableBus<Card>,
    private readonly cards: CardPool<Card>,
    private readonly options: RiderFlowOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops new arrivals and waits for the rider at the door to finish. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    const { random } = this.options;
    while (this.running) {
      const gapMs = (-Math.log(1 - random.next()) / this.options.ratePerSecond) * 1000;
      await sleep(Math.min(gapMs, 30_000));
      if (!this.running) break;
      const card = this.cards.borrow(random);
      if (card === undefined) continue;
      try {
        await this.board(card);
      } finally {
        this.cards.release(card);
      }
    }
  }

  private async board(card: Card): Promise<void> {
    const { random } = this.options;
    const tear = random.next() < this.options.tearProbability ? this.tearPlan() : undefined;
    const outcome = await this.bus.tap(card, tear);
    this.options.onTap(this.bus.terminalId, outcome);
    const askedAgain = outcome.promptId === 'tap-again' || outcome.promptId === 'card-read-error';
    if (askedAgain && random.next() < this.options.retapProbability) {
      await sleep(random.integer(300, 1500));
      this.options.onTap(this.bus.terminalId, await this.bus.tap(card));
    }
  }

  private tearPlan(): TearPlan {
    const { random } = this.options;
    return {
      apduIndex: random.integer(0, this.options.purchaseApdus - 1),
      phase: random.next() < 0.5 ? 'before-card' : 'after-card',
    };
  }
}
