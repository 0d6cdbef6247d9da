import { CardIoError, type CardProtocol, type CardSession } from '../../ports/card-reader.js';
import { mapTransmitError } from './pcsc-errors.js';
import type { NfcPcscReader } from './nfc-pcsc-module.js';
import type { ReaderModel } from './reader-models.js';

/** One card presentation on a PC/SC reader; its transmits go through nfc-pcsc's card connection. */
export class PcscCardSession implements CardSession {
  private removed = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly id: number,
    readonly atr: Uint8Array,
    readonly protocol: CardProtocol,
    private readonly reader: NfcPcscReader,
    private readonly model: ReaderModel,
    /** Called with each ReaderIoError, so the reader can reconnect. */
    private readonly onReaderError: (error: Error) => void,
    public uid?: Uint8Array,
  ) {}

  get isRemoved(): boolean {
    return this.removed;
  }

  /** @internal Called by the reader on card removal or reader loss. */
  markRemoved(): void {
    this.removed = true;
  }

  transmit(command: Uint8Array): Promise<Uint8Array> {
    const copy = Buffer.from(command);
    // nfc-pcsc has one connection per reader, so APDUs go out one at a time in the order sent.
    const result = this.queue.then(() => this.send(copy));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async send(command: Buffer): Promise<Uint8Array> {
    const context = `reader "${this.reader.name}" session ${this.id}`;
    if (this.removed) throw new CardIoError(`${context}: card left the field`, 'removed');
    let response: Buffer;
    try {
      response = await this.reader.transmit(command, this.model.maxResponseLength);
    } catch (error) {
      const mapped = mapTransmitError(error, context);
      if (mapped instanceof CardIoError) throw mapped;
      this.onReaderError(mapped);
      throw mapped;
    }
    // A response APDU has at least SW1 SW2. vpcd returns zero bytes when the card left mid-APDU.
    if (this.removed) throw new CardIoError(`${context}: card left the field during the APDU`, 'removed');
    if (response.length < 2) throw new CardIoError(`${context}: ${response.length}-byte response, the card left the field or did not answer`, 'transport');
    return Uint8Array.from(response);
  }
}
