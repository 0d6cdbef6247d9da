import { EF1E_RECORD_LENGTH, encodeTransitRecord, formatCardDateTime } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import type { ApduTransport } from '../ports/apdu-transport.js';
import { TRANSIT_RECORD_TYPE, readCardBoarding, routeCode, transitRecordUpdate, type TransitRecordInput } from './transit-record.js';

const BOARDED_AT = new Date('2026-03-02T08:00:00+08:00');
const RECORD: TransitRecordInput = {
  application: 'tunion',
  journey: 'boarding',
  terminalNumber: '000058100001',
  route: '30',
  stopIndex: 4,
  direction: 1,
  amountFen: 250,
  balanceAfterFen: 750,
  cardDateTime: formatCardDateTime(BOARDED_AT, 480),
  acquirerCityCode: '5810',
  maxIncompleteAmountFen: 300,
  maxJourneyMinutes: 180,
};

/** Creates a card that returns this record (or only the status word) to READ RECORD. */
function cardWith(record: Uint8Array | undefined, sw = [0x90, 0x00]): ApduTransport {
  return { transmit: async () => Uint8Array.from([...(record ?? []), ...sw]) };
}

function recordOf(input: TransitRecordInput): Uint8Array {
  // UPDATE CAPP DATA CACHE: 5 header bytes, then the 48-byte record.
  return transitRecordUpdate(input).slice(5, 5 + EF1E_RECORD_LENGTH);
}

describe('transit record boarding', () => {
  it('reads back the boarding this reader writes', async () => {
    const boarding = await readCardBoarding(cardWith(recordOf(RECORD)), { apdus: 0 }, 'tunion', 480);

    expect(boarding).toEqual({ routeCode: routeCode('30'), direction: 1, stopIndex: 4, boardedAt: BOARDED_AT, amountFen: 250, missingTapOffFen: 300 });
  });

  it('reads an unknown stop as undefined', async () => {
    const boarding = await readCardBoarding(cardWith(recordOf({ ...RECORD, stopIndex: undefined })), { apdus: 0 }, 'tunion', 480);

    expect(boarding?.stopIndex).toBeUndefined();
  });

  it('reads a record without the direction byte as direction 0', async () => {
    const record = recordOf(RECORD);
    record[16] = 0x00;

    expect((await readCardBoarding(cardWith(record), { apdus: 0 }, 'tunion', 480))?.direction).toBe(0);
  });

  it('finds no boarding after an alighting or a single trip', async () => {
    for (const journey of ['alighting', 'single'] as const) {
      const record = recordOf({ ...RECORD, journey });
      expect(record[0]).toBe(TRANSIT_RECORD_TYPE[journey]);
      expect(await readCardBoarding(cardWith(record), { apdus: 0 }, 'tunion', 480), journey).toBeUndefined();
    }
  });

  it('finds no boarding in an empty slot or a failed read', async () => {
    expect(await readCardBoarding(cardWith(new Uint8Array(EF1E_RECORD_LENGTH)), { apdus: 0 }, 'tunion', 480)).toBeUndefined();
    expect(await readCardBoarding(cardWith(undefined, [0x6a, 0x83]), { apdus: 0 }, 'tunion', 480)).toBeUndefined();
  });

  it('finds no boarding in another industry record', async () => {
    const record = encodeTransitRecord({
      recordType: TRANSIT_RECORD_TYPE.boarding,
      terminalNumber: '000058100001',
      industryCode: 0x01,
      lineStation: '00000030000400',
      amountFen: 0,
      balanceAfterFen: 1000,
      dateTime: '20260302080000',
      acquirerCityCode: '5810',
      acquirerId: '0',
      maxIncompleteAmountFen: 300,
      maxJourneyMinutes: 180,
    });

    expect(await readCardBoarding(cardWith(record), { apdus: 0 }, 'tunion', 480)).toBeUndefined();
  });

  it('finds no boarding with an invalid date-time', async () => {
    const record = recordOf(RECORD);
    record.set([0x20, 0x26, 0xaa, 0x45], 25);

    expect(await readCardBoarding(cardWith(record), { apdus: 0 }, 'tunion', 480)).toBeUndefined();
  });

  it('hashes route ids that are not up to 8 digits', () => {
    expect(routeCode('30')).toBe('00000030');
    expect(routeCode('K1')).toMatch(/^[0-9A-F]{8}$/);
    expect(routeCode('K1')).not.toBe(routeCode('K2'));
  });
});
