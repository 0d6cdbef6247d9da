import { SW, StatusWordError, buildApdu, mifare, m1SectorOf, type ResponseApdu } from '@busfare/shared-protocol';
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
 * Most blocks one READ BINARY returns on a MIFARE Classic 1K card: the three data blocks of a
 * sector. ACS readers with a Multiple Blocks Mode (ACR1255U-J1, ACM1252U-Y3) read up to 48
 * bytes from consecutive data blocks, never a sector trailer.
 */
export const MAX_BLOCKS_PER_READ = 3;

/**
 * The pseudo-APDUs of one M1 tap. It remembers which key sits in each of the reader's two volatile
 * key slots and which sector is authenticated, so a key is loaded and a sector authenticated only
 * when the next block needs it.
 */
export class M1CardIo {
  private readonly slots: (Uint8Array | undefined)[] = [undefined, undefined];
  private nextSlot = 0;
  private sector: number | undefined;
  /** Whether to try multi-block reads. Cleared when the reader rejects one or returns fewer bytes, as a reader limited to 16 bytes per read (the ACR122U) may. */
  private multiBlockReads = true;

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

  /**
   * Reads consecutive data blocks of one sector in a single READ BINARY whose Le covers them all.
   * A reader that rejects it or returns fewer bytes gets one READ BINARY per block for the rest of the tap.
   */
  async readBlocks(first: number, count: number): Promise<Uint8Array[]> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_BLOCKS_PER_READ) throw new RangeError(`read 1 to ${MAX_BLOCKS_PER_READ} blocks at once, got ${count}`);
    const last = first + count - 1;
    if (m1SectorOf(last) !== m1SectorOf(first) || (count > 1 && (first % 4 === 3 || last % 4 === 3))) {
      throw new RangeError(`blocks ${first}-${last} are not consecutive data blocks of one sector`);
    }
    if (count > 1 && this.multiBlockReads) {
      await this.enter(first);
      const length = count * mifare.MIFARE_BLOCK_SIZE;
      const response = await exchange(this.card, buildApdu({ cla: 0xff, ins: 0xb0, p1: 0x00, p2: first, le: length }), this.counter);
      if (response.sw === SW.OK && response.data.length === length) {
        return Array.from({ length: count }, (_, index) => response.data.slice(index * mifare.MIFARE_BLOCK_SIZE, (index + 1) * mifare.MIFARE_BLOCK_SIZE));
      }
      this.multiBlockReads = false;
      // A refused operation may end the sector's authentication, so the block reads authenticate again.
      if (response.sw !== SW.OK) this.sector = undefined;
    }
    const blocks: Uint8Array[] = [];
    for (let block = first; block <= last; block += 1) blocks.push(await this.readBlock(block));
    return blocks;
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

  /**
   * Readies the sectors that the next writes visit, in that order, while the terminal waits for
   * something else (the PSAM). It authenticates the first sector, then loads the key of the next
   * sector that no slot contains. Each key goes into the slot whose key the plan needs last or never.
   * LOAD KEY only fills the reader's own key memory, so the authenticated sector stays authenticated.
   */
  async prepare(plan: readonly number[]): Promise<void> {
    const [first, ...after] = plan;
    if (first === undefined) return;
    await this.enter(first * 4, after);
    const next = after.find((sector) => this.slotOf(this.keyOf(sector)) < 0);
    if (next !== undefined) await this.load(this.slotToReplace(after), this.keyOf(next));
  }

  /**
   * Loads the sector's key A unless a slot contains it, then authenticates unless the sector
   * already is. A key replaces the one the `upcoming` sectors need last or never. Without them, it
   * replaces the least recently used one.
   */
  private async enter(block: number, upcoming: readonly number[] = []): Promise<void> {
    const sector = m1SectorOf(block);
    if (this.sector === sector) return;
    const key = this.keyOf(sector);
    let slot = this.slotOf(key);
    if (slot < 0) {
      slot = this.slotToReplace(upcoming);
      this.sector = undefined;
      await this.load(slot, key);
    }
    // The other slot is the least recently used one, so the next key goes there.
    this.nextSlot = 1 - slot;
    this.sector = undefined;
    await this.send(mifare.authenticate(block, 'A', slot), `AUTHENTICATE SECTOR ${sector}`);
    this.sector = sector;
  }

  /** Picks the slot whose key the upcoming sectors need last or never, and the least recently used one on a tie. */
  private slotToReplace(upcoming: readonly number[]): number {
    const nextUse = (slot: number): number => {
      const slotKey = this.slots[slot];
      const index = slotKey === undefined ? -1 : upcoming.findIndex((sector) => sameKey(this.keyOf(sector), slotKey));
      return index < 0 ? Number.POSITIVE_INFINITY : index;
    };
    const other = 1 - this.nextSlot;
    return nextUse(other) > nextUse(this.nextSlot) ? other : this.nextSlot;
  }

  private keyOf(sector: number): Uint8Array {
    const key = this.keys.get(sector);
    if (!key) throw new RangeError(`no key derived for sector ${sector}`);
    return key;
  }

  private slotOf(key: Uint8Array): number {
    return this.slots.findIndex((slotKey) => slotKey !== undefined && sameKey(slotKey, key));
  }

  private async load(slot: number, key: Uint8Array): Promise<void> {
    this.slots[slot] = undefined;
    await this.send(mifare.loadKey(slot, key), `LOAD KEY ${slot}`);
    this.slots[slot] = key;
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

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}
