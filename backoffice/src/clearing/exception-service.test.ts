import { afterEach, describe, expect, it } from 'vitest';
import { fakeRecord } from '../testing/fake-terminal.js';
import { type ClearingFixture, openClearingFixture } from '../testing/clearing-fixture.js';

const onDay6 = (minutes: number) => new Date(Date.UTC(2025, 4, 6, 1, minutes));
const CARD = '99000001000000005555';

describe('ExceptionService', () => {
  let fixture: ClearingFixture;
  afterEach(() => fixture?.close());

  /** An in-doubt record of CARD at counter 7 and balance 5000, then a later purchase of the same card. */
  function inDoubtThenLater(laterCounter: number, laterBalanceBefore: number): void {
    fixture = openClearingFixture('2025-05-06T19:00:00Z');
    const inDoubt = fakeRecord({ sequence: 1, kind: 'in-doubt', occurredAt: onDay6(1), asn: CARD });
    inDoubt.debit.cardCounter = 7;
    const later = fakeRecord({ sequence: 2, occurredAt: onDay6(5), asn: CARD });
    later.debit.cardCounter = laterCounter;
    later.debit.balanceBeforeFen = laterBalanceBefore;
    fixture.ingest('T1', 'b1', [inDoubt, later]);
  }

  it('resolves in doubt as not debited from a later record with the same counter', () => {
    inDoubtThenLater(7, 5000);
    const outcome = fixture.centre.exceptions.resolveInDoubt({ terminalId: 'T1', sequence: 1, reason: 'next tap reused the counter', matched: { terminalId: 'T1', sequence: 2 } }, 'bob');
    expect(outcome).toBe('not-debited');
    expect(fixture.centre.exceptions.inDoubt(true)).toEqual([]);
    fixture.centre.settlement.settle('2025-05-06', 'bob');
    expect(fixture.centre.settlement.report('2025-05-06').totals.amountFen).toBe(200);
  });

  it('resolves in doubt as debited from the next counter and settles the fare', () => {
    inDoubtThenLater(8, 4800);
    const outcome = fixture.centre.exceptions.resolveInDoubt({ terminalId: 'T1', sequence: 1, reason: 'balance shows the debit', matched: { terminalId: 'T1', sequence: 2 } }, 'bob');
    expect(outcome).toBe('debited');
    const report = fixture.centre.settlement.settle('2025-05-06', 'bob');
    expect(report.totals).toMatchObject({ count: 2, amountFen: 400 });
  });

  it('rejects a matched record that proves nothing', () => {
    inDoubtThenLater(9, 4000);
    expect(() =>
      fixture.centre.exceptions.resolveInDoubt({ terminalId: 'T1', sequence: 1, reason: 'x', matched: { terminalId: 'T1', sequence: 2 } }, 'bob'),
    ).toThrow(/prove neither outcome/);
  });

  it('rejects a matched record of another card', () => {
    fixture = openClearingFixture('2025-05-06T19:00:00Z');
    fixture.ingest('T1', 'b1', [fakeRecord({ sequence: 1, kind: 'in-doubt', occurredAt: onDay6(1), asn: CARD }), fakeRecord({ sequence: 2, occurredAt: onDay6(2) })]);
    expect(() => fixture.centre.exceptions.resolveInDoubt({ terminalId: 'T1', sequence: 1, reason: 'x', matched: { terminalId: 'T1', sequence: 2 } }, 'bob')).toThrow(/is of card/);
  });

  it('decides by hand once, with a reason', () => {
    inDoubtThenLater(8, 4800);
    expect(() => fixture.centre.exceptions.resolveInDoubt({ terminalId: 'T1', sequence: 1, reason: ' ', outcome: 'debited' }, 'bob')).toThrow(/reason is required/);
    expect(() => fixture.centre.exceptions.resolveInDoubt({ terminalId: 'T1', sequence: 1, reason: 'no proof' }, 'bob')).toThrow(/give an outcome/);
    fixture.centre.exceptions.resolveInDoubt({ terminalId: 'T1', sequence: 1, reason: 'rider receipt', outcome: 'not-debited' }, 'bob');
    expect(() => fixture.centre.exceptions.resolveInDoubt({ terminalId: 'T1', sequence: 1, reason: 'again', outcome: 'debited' }, 'bob')).toThrow(/already decided/);
    expect(() => fixture.centre.exceptions.resolveInDoubt({ terminalId: 'T9', sequence: 1, reason: 'x', outcome: 'debited' }, 'bob')).toThrow(/not found/);
  });

  it('writes off a rejected record and keeps the action in the audit log', () => {
    fixture = openClearingFixture('2025-05-06T19:00:00Z');
    fixture.ingest('T1', 'b1', [fakeRecord({ sequence: 1, occurredAt: onDay6(1), tac: '00000000' })]);
    const [item] = fixture.centre.exceptions.rejected();
    expect(item?.category).toBe('tac');
    fixture.centre.exceptions.writeOffRejected(item!.id, 'forged TAC, reported to the operator', 'bob');
    expect(fixture.centre.exceptions.rejected()).toEqual([]);
    expect(() => fixture.centre.exceptions.writeOffRejected(item!.id, 'again', 'bob')).toThrow(/already written-off/);
    const [entry] = fixture.centre.stores.operators.listAudit(1);
    expect(entry).toMatchObject({ operator: 'bob', action: 'exception.write-off', target: `rejected:${item!.id}` });
  });

  it('re-processes a rejected record once its key is known', () => {
    fixture = openClearingFixture('2025-05-06T19:00:00Z');
    const record = fakeRecord({ sequence: 1, occurredAt: onDay6(1) });
    const tampered = structuredClone(record);
    tampered.debit.amountFen = 20;
    fixture.ingest('T1', 'b1', [tampered]);
    const [item] = fixture.centre.exceptions.rejected();
    expect(fixture.centre.exceptions.reprocess(item!.id, 'bob')).toMatchObject({ outcome: 'rejected-again' });
    expect(fixture.centre.exceptions.rejected()).toHaveLength(1);
    expect(() => fixture.centre.exceptions.reprocess(9999, 'bob')).toThrow(/not found/);
  });
});
