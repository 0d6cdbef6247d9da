import type { EventEmitter } from 'node:events';
import type { DeviceHealth } from '@busfare/shared-protocol';

export type CardProtocol = 'iso14443-4' | 'mifare-classic';

/**
 * One presentation of a card in the field, from arrival to removal. Every APDU of a tap goes
 * through the same session; after removal `transmit` rejects with a CardIoError.
 */
export interface CardSession {
  /** Increases with each presentation on this reader. */
  readonly id: number;
  readonly atr: Uint8Array;
  readonly protocol: CardProtocol;
  /** UID from the anticollision, when the reader reports it. */
  readonly uid?: Uint8Array;
  /**
   * Sends one command APDU and resolves with the raw response (data + SW1 SW2).
   * Rejects with CardIoError when the card is gone or does not answer, ReaderIoError when the
   * reader or its driver fails.
   */
  transmit(command: Uint8Array): Promise<Uint8Array>;
}

export interface CardReaderEvents {
  card: [CardSession];
  removed: [CardSession];
  health: [DeviceHealth];
  error: [Error];
}

/** A contactless reader. Adapters: in-process simulator, socket-attached simulator, PC/SC, PN532 module on a serial line. */
export interface CardReader extends EventEmitter<CardReaderEvents> {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The card failed or left the field: abort the tap and ask the rider to tap again. */
export class CardIoError extends Error {
  constructor(
    message: string,
    readonly reason: 'removed' | 'timeout' | 'transport',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CardIoError';
  }
}

/** The reader or its driver failed: reconnect or re-enumerate, and alert the driver. */
export class ReaderIoError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReaderIoError';
  }
}
