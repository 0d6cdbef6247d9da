import { EventEmitter } from 'node:events';
import { CardIoError, type CardProtocol, type CardReader, type CardReaderEvents, type CardSession } from '@busfare/terminal';
import type { ApduCard } from '../cards/apdu-card.js';
import { waitLinkLatency } from './link-latency.js';

/**
 * Where a simulated tear removes the card: before the card receives the APDU (nothing changes on the
 * card), or after the card processed it but before the response reaches the terminal (the card
 * may have been debited without the terminal receiving the proof).
 */
export type TearPhase = 'before-card' | 'after-card';

export interface InProcessCardReaderOptions {
  name?: string;
  /** Simulated link time per card APDU in milliseconds. Default 0. */
  apduLatencyMs?: number;
}

interface PlannedTear {
  apduIndex: number;
  phase: TearPhase;
  /** Session the tear applies to; undefined means the next card presented. */
  sessionId: number | undefined;
}

/** One presentation of an ApduCard on the in-process reader. */
export class InProcessCardSession implements CardSession {
  readonly atr: Uint8Array;
  readonly protocol: CardProtocol;
  readonly uid?: Uint8Array;
  /** APDUs that reached this session so far, including ones lost to a tear. */
  apduCount = 0;
  private removed = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly id: number,
    readonly card: ApduCard,
    private readonly reader: InProcessCardReader,
  ) {
    this.atr = card.atr;
    this.protocol = card.protocol;
    if (card.uid) this.uid = card.uid;
  }

  get isRemoved(): boolean {
    return this.removed;
  }

  /** @internal Called by the reader when the card leaves the field. */
  markRemoved(): void {
    this.removed = true;
  }

  transmit(command: Uint8Array): Promise<Uint8Array> {
    const copy = command.slice();
    // APDUs reach the card one at a time, in the order they were sent.
    const result = this.queue.then(() => this.reader.exchange(this, copy));
    this.queue = result.catch(() => undefined);
    return result;
  }
}

/**
 * The terminal's CardReader port with virtual cards in the same process. A bench or a test puts a
 * card in the field with `present` and takes it away with `remove`. `tearAt` tears the card away
 * at a chosen APDU.
 */
export class InProcessCardReader extends EventEmitter<CardReaderEvents> implements CardReader {
  readonly name: string;
  private readonly apduLatencyMs: number;
  private started = false;
  private current: InProcessCardSession | undefined;
  private lastSessionId = 0;
  private plannedTear: PlannedTear | undefined;

  constructor(options: InProcessCardReaderOptions = {}) {
    super();
    this.name = options.name ?? 'in-process reader';
    this.apduLatencyMs = options.apduLatencyMs ?? 0;
  }

  async start(): Promise<void> {
    this.started = true;
    this.emit('health', 'ok');
  }

  async stop(): Promise<void> {
    this.remove();
    this.started = false;
    this.emit('health', 'down');
  }

  /** The session of the card in the field, if any. */
  get currentSession(): InProcessCardSession | undefined {
    return this.current;
  }

  /** Puts a card in the field, removing any card already there, and emits 'card'. */
  present(card: ApduCard): InProcessCardSession {
    if (!this.started) throw new Error(`reader "${this.name}" is not started: call start() before presenting a card`);
    this.remove();
    this.lastSessionId += 1;
    const session = new InProcessCardSession(this.lastSessionId, card, this);
    this.current = session;
    if (this.plannedTear && this.plannedTear.sessionId === undefined) this.plannedTear.sessionId = session.id;
    this.emit('card', session);
    return session;
  }

  /** Takes the card out of the field and emits 'removed'; its later transmits reject. */
  remove(): void {
    const session = this.current;
    if (!session) return;
    this.current = undefined;
    session.markRemoved();
    if (this.plannedTear?.sessionId === session.id) this.plannedTear = undefined;
    this.emit('removed', session);
  }

  /**
   * Removes the card when APDU number `apduIndex` (zero-based) of the current session arrives,
   * or of the next session when no card is in the field. A later call replaces an earlier one.
   */
  tearAt(apduIndex: number, phase: TearPhase): void {
    if (!Number.isInteger(apduIndex) || apduIndex < 0) throw new RangeError(`invalid APDU index ${apduIndex}: expected an integer of 0 or more`);
    this.plannedTear = { apduIndex, phase, sessionId: this.current?.id };
  }

  /** Cancels a planned tear that has not happened. */
  cancelTear(): void {
    this.plannedTear = undefined;
  }

  /** @internal Runs one APDU of a session through the link and the card. */
  async exchange(session: InProcessCardSession, command: Uint8Array): Promise<Uint8Array> {
    if (session.isRemoved) throw removedError(session);
    const index = session.apduCount;
    session.apduCount += 1;
    await waitLinkLatency(this.apduLatencyMs);
    if (session.isRemoved) throw removedError(session);

    const tear = this.plannedTear;
    const tearsHere = tear !== undefined && tear.sessionId === session.id && tear.apduIndex === index;
    if (tearsHere && tear.phase === 'before-card') {
      this.remove();
      throw removedError(session);
    }
    const response = session.card.process(command);
    if (tearsHere) {
      this.remove();
      throw removedError(session);
    }
    return response.slice();
  }
}

function removedError(session: InProcessCardSession): CardIoError {
  return new CardIoError(`card ${session.card.label} left the field (session ${session.id})`, 'removed');
}
