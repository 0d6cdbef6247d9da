import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { shiftRecordSchema, type ShiftRecord } from '@busfare/shared-protocol';
import { ManualClock } from '../ports/clock.js';
import type { TapOutcome } from '../tap/tap-outcome.js';
import { DriverShift, ShiftError } from './driver-shift.js';
import { ShiftStore } from './shift-store.js';

const logger = pino({ level: 'silent' });
const stores: ShiftStore[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function outcome(status: TapOutcome['status'], fields: Partial<TapOutcome> = {}): TapOutcome {
  return { status, promptId: 'fare-paid', cardApdus: 4, psamApdus: 2, durationMs: 50, ...fields };
}

function createShift(options: { dir?: string; lastSequence?: () => number; sent?: ShiftRecord[]; failSend?: () => boolean } = {}) {
  let dir = options.dir;
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'busfare-shift-'));
    dirs.push(dir);
  }
  const store = ShiftStore.open(join(dir, 'shifts.db'));
  stores.push(store);
  const clock = new ManualClock(new Date('2026-03-02T06:00:00+08:00'));
  const services: unknown[] = [];
  const shift = new DriverShift({
    terminalId: 'T001',
    vehicleId: 'V001',
    store,
    sender: {
      send: async (record) => {
        if (options.failSend?.()) throw new Error('link down');
        options.sent?.push(record);
      },
    },
    clock,
    logger,
    lastSequence: options.lastSequence ?? (() => 0),
    serviceChoices: () => [{ route: '1', direction: 0 }, { route: '1', direction: 1 }],
    onService: (service) => services.push(service),
  });
  return { shift, store, clock, dir, services };
}

describe('DriverShift', () => {
  it('records a shift from sign-on to sign-off', async () => {
    let lastSequence = 40;
    const sent: ShiftRecord[] = [];
    const { shift, clock, services } = createShift({ lastSequence: () => lastSequence, sent });
    shift.start();
    shift.signOn('8123');
    shift.confirmService('1', 1);
    expect(services.at(-1)).toEqual({ driverId: '8123', route: '1', direction: 1 });

    shift.recordTap(outcome('accepted', { cardType: 'student', amountFen: 100 }));
    shift.recordTap(outcome('accepted', { cardType: 'ordinary', amountFen: 200 }));
    shift.recordTap(outcome('recovered', { cardType: 'ordinary', amountFen: 200 }));
    shift.recordTap(outcome('refused', { promptId: 'insufficient-balance' }));
    shift.recordTap(outcome('in-doubt', { promptId: 'tap-again' }));
    shift.recordTap(outcome('failed', { promptId: 'tap-again' }));
    lastSequence = 44;
    clock.advance(8 * 3600_000);

    const record = shift.signOff();
    expect(shiftRecordSchema.parse(record)).toEqual(record);
    expect(record.shiftId).toBe('T001-20260301220000');
    expect(record.firstSequence).toBe(41);
    expect(record.lastSequence).toBe(44);
    expect(record.counters).toEqual({
      taps: 6,
      accepted: 3,
      refused: 1,
      inDoubt: 1,
      failed: 1,
      amountFen: 500,
      byCardType: { student: { taps: 1, amountFen: 100 }, ordinary: { taps: 2, amountFen: 400 } },
    });
    expect(services.at(-1)).toBeUndefined();
    await shift.flush();
    expect(sent.map((entry) => entry.shiftId)).toEqual([record.shiftId]);
    expect(shift.latestRecord()?.sentAt).not.toBeNull();
    await shift.stop();
  });

  it('counts no driver card taps', () => {
    const { shift } = createShift();
    shift.signOn('8123');
    shift.recordTap(outcome('accepted', { promptId: 'driver-tap-again-to-sign-off', driverCard: { action: 'sign-off-armed', driverId: '8123' } }));
    shift.recordTap(outcome('refused', { promptId: 'driver-sign-off-first', driverCard: { action: 'rejected', driverId: '9001' } }));
    shift.recordTap(outcome('accepted', { amountFen: 200 }));
    expect(shift.current()?.counters).toMatchObject({ taps: 1, accepted: 1, refused: 0, amountFen: 200 });
  });

  it('leaves the sequence range empty without records', () => {
    const { shift } = createShift({ lastSequence: () => 7 });
    shift.signOn('D001');
    const record = shift.signOff();
    expect(record.firstSequence).toBeNull();
    expect(record.lastSequence).toBeNull();
  });

  it('rejects invalid requests with codes', () => {
    const { shift } = createShift();
    const codeOf = (action: () => unknown) => {
      try {
        action();
      } catch (error) {
        return error instanceof ShiftError ? error.code : String(error);
      }
      return 'no error';
    };
    expect(codeOf(() => shift.signOn(''))).toBe('invalid-driver');
    expect(codeOf(() => shift.signOn('bad number!'))).toBe('invalid-driver');
    expect(codeOf(() => shift.signOn('x'.repeat(17)))).toBe('invalid-driver');
    expect(codeOf(() => shift.confirmService('1', 0))).toBe('not-signed-on');
    expect(codeOf(() => shift.signOff())).toBe('not-signed-on');
    shift.signOn('D001');
    expect(codeOf(() => shift.signOn('D002'))).toBe('already-signed-on');
    expect(codeOf(() => shift.confirmService('9', 0))).toBe('unknown-service');
  });

  it('keeps the open shift across a restart', async () => {
    const first = createShift();
    first.shift.signOn('D007');
    first.shift.confirmService('1', 0);
    first.shift.recordTap(outcome('accepted', { amountFen: 200 }));
    await first.shift.stop();
    first.store.close();
    stores.splice(stores.indexOf(first.store), 1);

    const second = createShift({ dir: first.dir });
    second.shift.start();
    expect(second.shift.current()).toMatchObject({ driverId: 'D007', route: '1', direction: 0, serviceConfirmed: true });
    expect(second.shift.current()?.counters.amountFen).toBe(200);
    expect(second.services.at(-1)).toEqual({ driverId: 'D007', route: '1', direction: 0 });
    await second.shift.stop();
  });

  it('keeps an unsent record until a send succeeds', async () => {
    let linkDown = true;
    const sent: ShiftRecord[] = [];
    const { shift } = createShift({ sent, failSend: () => linkDown });
    shift.signOn('D001');
    shift.signOff();
    expect(await shift.flush()).toBe(0);
    expect(shift.latestRecord()?.sentAt).toBeNull();
    linkDown = false;
    expect(await shift.flush()).toBe(1);
    expect(await shift.flush()).toBe(0);
    expect(sent).toHaveLength(1);
  });
});
