import { toHex } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import type { ApduTransport } from '../../ports/apdu-transport.js';
import { M1CardIo, M1OperationError } from './m1-card-io.js';

const KEYS = new Map([1, 2, 3, 6].map((sector) => [sector, Uint8Array.of(sector, sector, sector, sector, sector, sector)]));

/** A reader that logs each command and returns reads filled with the block number. */
class FakeReader implements ApduTransport {
  readonly sent: string[] = [];

  constructor(private readonly multiBlock: 'full' | 'refused' | 'short' = 'full') {}

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    this.sent.push(toHex(command));
    if (command[1] !== 0xb0) return Uint8Array.of(0x90, 0x00);
    const block = command[3]!;
    const le = command[4]!;
    if (le > 16 && this.multiBlock === 'refused') return Uint8Array.of(0x63, 0x00);
    const length = le > 16 && this.multiBlock === 'short' ? 16 : le;
    const data = Array.from({ length }, (_, index) => block + Math.floor(index / 16));
    return Uint8Array.from([...data, 0x90, 0x00]);
  }

  /** The commands by instruction: LOAD KEY slot, AUTH block/slot, READ block/Le. */
  get steps(): string[] {
    return this.sent.map((hex) => {
      const bytes = Buffer.from(hex, 'hex');
      if (bytes[1] === 0x82) return `LOAD ${bytes[3]}:${bytes[5]}`;
      if (bytes[1] === 0x86) return `AUTH ${bytes[7]}/${bytes[9]}`;
      if (bytes[1] === 0xb0) return `READ ${bytes[3]}x${bytes[4]}`;
      return hex;
    });
  }
}

describe('M1CardIo reads', () => {
  it('reads the purse sector in one READ BINARY', async () => {
    const reader = new FakeReader();
    const io = new M1CardIo(reader, { apdus: 0 }, KEYS);

    const blocks = await io.readBlocks(8, 3);

    expect(blocks.map((block) => block[0])).toEqual([8, 9, 10]);
    expect(blocks.every((block) => block.length === 16)).toBe(true);
    expect(reader.steps).toEqual(['LOAD 0:2', 'AUTH 8/0', 'READ 8x48']);
  });

  it('falls back after a rejected multi-block read', async () => {
    const reader = new FakeReader('refused');
    const io = new M1CardIo(reader, { apdus: 0 }, KEYS);

    const blocks = await io.readBlocks(24, 2);
    await io.readBlocks(8, 3);

    expect(blocks.map((block) => block[0])).toEqual([24, 25]);
    // The rejection may end the authentication, so sector 6 is authenticated again. The purse
    // sector is then read block by block without another multi-block read.
    expect(reader.steps).toEqual(['LOAD 0:6', 'AUTH 24/0', 'READ 24x32', 'AUTH 24/0', 'READ 24x16', 'READ 25x16', 'LOAD 1:2', 'AUTH 8/1', 'READ 8x16', 'READ 9x16', 'READ 10x16']);
  });

  it('falls back after a short multi-block read', async () => {
    const reader = new FakeReader('short');
    const io = new M1CardIo(reader, { apdus: 0 }, KEYS);

    const blocks = await io.readBlocks(8, 3);

    expect(blocks.map((block) => block[0])).toEqual([8, 9, 10]);
    expect(reader.steps).toEqual(['LOAD 0:2', 'AUTH 8/0', 'READ 8x48', 'READ 8x16', 'READ 9x16', 'READ 10x16']);
  });

  it('refuses ranges that are not consecutive data blocks of one sector', async () => {
    const io = new M1CardIo(new FakeReader(), { apdus: 0 }, KEYS);

    await expect(io.readBlocks(9, 3)).rejects.toThrow(RangeError);
    await expect(io.readBlocks(10, 2)).rejects.toThrow(RangeError);
    await expect(io.readBlocks(8, 4)).rejects.toThrow(RangeError);
    await expect(io.readBlocks(8, 0)).rejects.toThrow(RangeError);
  });

  it('reports a refused single-block read', async () => {
    const reader: ApduTransport = { transmit: async (command) => (command[1] === 0xb0 ? Uint8Array.of(0x63, 0x00) : Uint8Array.of(0x90, 0x00)) };
    const io = new M1CardIo(reader, { apdus: 0 }, KEYS);

    await expect(io.readBlocks(4, 1)).rejects.toThrow(M1OperationError);
  });
});

/** Returns a reader and an M1CardIo after the reads of a tap-on/tap-off tap (sectors 1, 2 and 6), with the reader's log emptied. */
async function afterSectionReads(): Promise<{ reader: FakeReader; io: M1CardIo }> {
  const reader = new FakeReader();
  const io = new M1CardIo(reader, { apdus: 0 }, KEYS);
  await io.readBlocks(4, 1);
  await io.readBlocks(8, 3);
  await io.readBlocks(24, 2);
  reader.sent.length = 0;
  return { reader, io };
}

describe('M1CardIo prepare', () => {
  it('replaces a key the plan no longer needs', async () => {
    const { reader, io } = await afterSectionReads();

    // Slot 0 contains the key of sector 6 and slot 1 that of the purse sector. The record sector
    // takes slot 0, so the purse sector keeps its key for the last write.
    await io.prepare([3, 2]);
    await io.writeBlock(12, new Uint8Array(16));
    await io.writeBlock(8, new Uint8Array(16));

    expect(reader.steps.filter((step) => !step.startsWith('FFD6'))).toEqual(['LOAD 0:3', 'AUTH 12/0', 'AUTH 8/1']);
  });

  it('keeps a staged sector authenticated', async () => {
    const { reader, io } = await afterSectionReads();

    await io.prepare([6, 3, 2]);
    await io.writeBlock(24, new Uint8Array(16));
    await io.writeBlock(12, new Uint8Array(16));
    await io.writeBlock(8, new Uint8Array(16));

    expect(reader.steps.filter((step) => !step.startsWith('FFD6'))).toEqual(['LOAD 0:3', 'AUTH 12/0', 'AUTH 8/1']);
  });

  it('does nothing for an empty plan', async () => {
    const reader = new FakeReader();
    const io = new M1CardIo(reader, { apdus: 0 }, KEYS);

    await io.prepare([]);

    expect(reader.sent).toEqual([]);
  });
});
