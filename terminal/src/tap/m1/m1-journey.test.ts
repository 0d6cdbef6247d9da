import { M1_LAYOUT, type M1Boarding, parseM1Boarding } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import type { TapFareDecision } from '../fare-decision.js';
import type { M1CardIo } from './m1-card-io.js';
import { boardingStage } from './m1-journey.js';

type Charge = Extract<TapFareDecision, { kind: 'charge' }>;
const BOARDING: Charge = {
  kind: 'charge',
  cardType: 'ordinary',
  listFareFen: 250,
  amountFen: 250,
  requiredBalanceFen: 550,
  purchase: 'composite',
  journey: 'boarding',
  transitRecord: { journey: 'boarding', stopIndex: 4, direction: 1, maxIncompleteAmountFen: 300, maxJourneyMinutes: 240 },
};
const ALIGHTING: Charge = { ...BOARDING, amountFen: 100, journey: 'alighting', transitRecord: { journey: 'alighting', stopIndex: 7, direction: 1, maxIncompleteAmountFen: 0, maxJourneyMinutes: 240 } };
const DEBIT = { counterAfter: 3, terminalSerial: 9, terminalTail: '0001', cardDateTime: '20260302080000' };

/** Runs the stage of a decision against a card that keeps the blocks written to it. */
async function stagedRecord(decision: Charge): Promise<M1Boarding> {
  const blocks = new Map<number, Uint8Array>();
  const io = { writeBlock: async (block: number, data: Uint8Array) => void blocks.set(block, data) } as unknown as M1CardIo;
  const stage = boardingStage(io, decision, { vehicleId: 'V009', route: '9', direction: 1 });
  if (!stage) throw new Error('expected a boarding stage');
  expect(stage.sector).toBe(M1_LAYOUT.boardingSector);
  await stage.write(DEBIT);
  const [first, second] = M1_LAYOUT.boardingBlocks;
  const read = parseM1Boarding(blocks.get(first)!, blocks.get(second)!);
  if (read.kind !== 'boarding') throw new Error(`expected a boarding record, found ${read.kind}`);
  return read.boarding;
}

describe('M1 boarding stage', () => {
  it('writes the missing tap-off charge as the longest fare', async () => {
    const record = await stagedRecord(BOARDING);

    expect(record.longestFareFen).toBe(300);
    expect(record.boardingChargeFen).toBe(250);
    expect(record).toMatchObject({ routeCode: '00000009', direction: 1, stopIndex: 4, boardingCounter: 3, terminalSerial: 9, open: true });
  });

  it('stores an unstorable stop index as unknown', async () => {
    const record = await stagedRecord({ ...BOARDING, transitRecord: { ...BOARDING.transitRecord!, stopIndex: 0xffff } });

    expect(record.stopIndex).toBeUndefined();
  });

  it('writes nothing for an alighting', () => {
    const io = {} as M1CardIo;

    expect(boardingStage(io, ALIGHTING, { vehicleId: 'V009', route: '9', direction: 1 })).toBeUndefined();
  });

  it('writes nothing without a route', () => {
    const io = {} as M1CardIo;

    expect(boardingStage(io, BOARDING, { vehicleId: 'V009' })).toBeUndefined();
  });
});
