import { SW, StatusWordError, mifare, m1SectorOf, type ResponseApdu } from '@busfare/shared-protocol';
import type { ApduTransport } from '../../ports/apdu-transport.js';
import { exchange } from '../apdu-exchange.js';

/** A MIFARE pseudo-APDU returned a status other than 9000: the card rejected it or the reader failed. */
export class M1OperationError extends StatusWordError {
  constructor(operation: string, sw: number) {
    super(operation, sw);
    this.name = 'M1OperationError';
  }
}

/**
 * The pseudo-APDUs of one M1 tap. It remembers which key sits in each of the reader's two volatile
 * key slots and which sector is authenticated, so a key is loaded and a sector authenticated only
 * when the next block needs it.
 */
export class M1CardIo {
  private readonly slots: (Uint8Array | undefined)[] = [undefined, undefined];
  private nextSlot = 0;
  private sector: number | undefined;

  constructor(
    private readonly card: ApduTransport,
    private readonly counter: { apdus: number },
    private readonly keys: ReadonlyMap<number, Uint8Array>,
  ) {}

  async readBlock(block: number): Promise<Uint8Array> {
    await this.enter(block);
    const response = await this.send(mifare.readBlock(block), `READ BLOCK ${block}`);
    if (response.data.length !== mifare.MIFARE_BLOCK_SIZE) throw new RangeError(`READ BLOCK ${block} returned ${response.data.length} bytes, expected ${mifare.MIFARE_BLOCK_SIZE}`);
    return response.data.slice();
  }

  async writeBlock(block: number, data: Uint8Array): Promise<void> {
    await this.enter(block);
    await this.send(mifare.writeBlock(block, data), `WRITE BLOCK ${block}`);
  }

  async decrement(block: number, amountFen: number): Promise<void> {
    await this.enter(block);
    await this.send(mifare.valueOperation(block, 'decrement', amountFen), `DECREMENT BLOCK ${block}`);
  }

  /** Copies a valid value block over another block of the same sector. */
  async restore(source: number, target: number): Promise<void> {
    await this.enter(source);
    await this.send(mifare.restoreValue(source, target), `RESTORE BLOCK ${source} TO ${target}`);
  }

  /** Loads the sector's key A unless a slot contains it, then authenticates unless the sector already is. */
  private async enter(block: number): Promise<void> {
    const sector = m1SectorOf(block);
    if (this.sector === sector) return;
    const key = this.keys.get(sector);
    if (!key) throw new RangeError(`no key derived for sector ${sector}`);
    let slot = this.slots.findIndex((held) => held !== undefined && Buffer.from(held).equals(Buffer.from(key)));
    if (slot < 0) {
      slot = this.nextSlot;
      this.sector = undefined;
      this.slots[slot] = undefined;
      await this.send(mifare.loadKey(slot, key), `LOAD KEY ${slot}`);
      this.slots[slot] = key;
    }
    // The other slot is the least recently used one, so the next key goes there.
    this.nextSlot = 1 - slot;
    this.sector = undefined;
    await this.send(mifare.authenticate(block, 'A', slot), `AUTHENTICATE SECTOR ${sector}`);
    this.sector = sector;
  }

  private async send(command: Uint8Array, operation: string): Promise<ResponseApdu> {
    const response = await exchange(this.card, command, this.counter);
    if (response.sw !== SW.OK) {
      // A failed operation also ends the sector's authentication on the card.
      this.sector = undefined;
      throw new M1OperationError(operation, response.sw);
    }
    return response;
  }
}
