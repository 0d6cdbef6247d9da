import { M1_LAYOUT, MIFARE_OPERATION_FAILED, SW, buildApdu, decodeValueBlock, mifare, splitResponse } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { BENCH_M1_ISSUER, m1SectorKey } from '../psam/m1-keys.js';
import { VirtualM1Card } from './virtual-m1-card.js';

function newCard(): VirtualM1Card {
  return new VirtualM1Card({ uid: Uint8Array.of(0x5a, 0x01, 0x02, 0x03), cardSerial: '10000001', balanceFen: 1000, cardTypeCode: 1, startDate: '20240101', expiryDate: '20301231' });
}

/** Loads the sector's key A into slot 0 and authenticates the sector. */
function authenticate(card: VirtualM1Card, sector: number): void {
  expect(splitResponse(card.process(mifare.loadKey(0, m1SectorKey(BENCH_M1_ISSUER.sectorMasterKey, card.uid, sector)))).sw).toBe(SW.OK);
  expect(splitResponse(card.process(mifare.authenticate(sector * 4, 'A', 0))).sw).toBe(SW.OK);
}

function read(card: VirtualM1Card, block: number, le: number) {
  return splitResponse(card.process(buildApdu({ cla: 0xff, ins: 0xb0, p1: 0x00, p2: block, le })));
}

describe('VirtualM1Card READ BINARY', () => {
  it('returns three consecutive data blocks for Le 48', () => {
    const card = newCard();
    authenticate(card, M1_LAYOUT.purseSector);

    const response = read(card, M1_LAYOUT.purseInfoBlock, 48);

    expect(response.sw).toBe(SW.OK);
    expect(response.data).toEqual(Uint8Array.from([...card.block(8), ...card.block(9), ...card.block(10)]));
    expect(decodeValueBlock(response.data.subarray(16, 32))?.value).toBe(1000);
  });

  it('returns two blocks for Le 32', () => {
    const card = newCard();
    authenticate(card, M1_LAYOUT.boardingSector);

    const response = read(card, 24, 32);

    expect(response.sw).toBe(SW.OK);
    expect(response.data).toHaveLength(32);
  });

  it('reads one block, a trailer with key A hidden, for Le 16', () => {
    const card = newCard();
    authenticate(card, M1_LAYOUT.purseSector);

    const response = read(card, 11, 16);

    expect(response.sw).toBe(SW.OK);
    expect(response.data.subarray(0, 6)).toEqual(new Uint8Array(6));
  });

  it('refuses a multi-block read that reaches a trailer', () => {
    const card = newCard();
    authenticate(card, M1_LAYOUT.purseSector);

    expect(read(card, 9, 48).sw).toBe(MIFARE_OPERATION_FAILED);
    expect(read(card, 10, 32).sw).toBe(MIFARE_OPERATION_FAILED);
  });

  it('refuses an invalid Le', () => {
    const card = newCard();
    authenticate(card, M1_LAYOUT.purseSector);

    for (const le of [64, 0, 8, 20]) expect(read(card, 8, le).sw, `Le ${le}`).toBe(MIFARE_OPERATION_FAILED);
  });

  it('refuses a read outside the authenticated sector', () => {
    const card = newCard();
    authenticate(card, M1_LAYOUT.issuanceSector);

    expect(read(card, 8, 48).sw).toBe(MIFARE_OPERATION_FAILED);
    expect(read(card, 12, 16).sw).toBe(MIFARE_OPERATION_FAILED);
    expect(read(card, 4, 48).sw).toBe(SW.OK);
  });

  it('keeps the authenticated sector across LOAD KEY', () => {
    const card = newCard();
    authenticate(card, M1_LAYOUT.purseSector);

    card.process(mifare.loadKey(0, new Uint8Array(6).fill(0xff)));

    expect(read(card, 8, 48).sw).toBe(SW.OK);
  });
});
