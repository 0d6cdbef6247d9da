import { afterEach, describe, expect, it } from 'vitest';
import { OUT_OF_TOWN_ISSUER, fakeRecord } from '../testing/fake-terminal.js';
import { type ClearingFixture, openClearingFixture } from '../testing/clearing-fixture.js';
import { ClearingError } from './clearing-error.js';
import { confirmAllAnswer } from './forwarding-file.js';

/** 2025-05-06 09:30 local (UTC+8) plus the given minutes. */
const onDay6 = (minutes: number) => new Date(Date.UTC(2025, 4, 6, 1, 30 + minutes));
/** 2025-05-07 10:00 local. */
const onDay7 = (minutes: number) => new Date(Date.UTC(2025, 4, 7, 2, minutes));
const AFTER_DAY_6 = '2025-05-06T19:00:00Z';
const AFTER_DAY_7 = '2025-05-07T19:00:00Z';

describe('SettlementService', () => {
  let fixture: ClearingFixture;
  afterEach(() => fixture?.close());

  it('settles a day only after it ends', () => {
    fixture = openClearingFixture('2025-05-06T05:00:00Z');
    fixture.ingest('T1', 'b1', [fakeRecord({ sequence: 1, occurredAt: onDay6(0) })]);
    expect(() => fixture.centre.settlement.settle('2025-05-06', 'alice')).toThrow(/has not ended/);
    fixture.clock.set(AFTER_DAY_6);
    const report = fixture.centre.settlement.settle('2025-05-06', 'alice');
    expect(report.state).toBe('settled');
    expect(report.totals.count).toBe(1);
    expect(report.totals.amountFen).toBe(200);
  });

  it('totals full and discounted fares by dimension', () => {
    fixture = openClearingFixture(AFTER_DAY_6);
    fixture.ingest('T1', 'b1', [
      fakeRecord({ sequence: 1, occurredAt: onDay6(0), amountFen: 200 }),
      fakeRecord({ sequence: 2, occurredAt: onDay6(1), amountFen: 100 }),
    ]);
    fixture.ingest('T2', 'b1', [fakeRecord({ sequence: 1, occurredAt: onDay6(2), amountFen: 200, asn: '99000001000000009999' })]);
    const report = fixture.centre.settlement.settle('2025-05-06', 'alice');
    expect(report.totals).toEqual({ count: 3, amountFen: 500, listFareFen: 600, discountFen: 100 });
    expect(report.byTerminal.map((line) => [line.key, line.amountFen])).toEqual([['T1', 300], ['T2', 200]]);
    expect(report.byRoute).toEqual([{ key: '12', count: 3, amountFen: 500, listFareFen: 600, discountFen: 100 }]);
    expect(report.byIssuerGroup.map((line) => line.key)).toEqual(['local']);
    expect(report.byCardType[0]?.key).toBe('ordinary');
  });

  it('keeps a settled day frozen and moves late uploads to the next day', () => {
    fixture = openClearingFixture(AFTER_DAY_6);
    fixture.ingest('T1', 'b1', [fakeRecord({ sequence: 1, occurredAt: onDay6(0) })]);
    const settled = fixture.centre.settlement.settle('2025-05-06', 'alice');

    fixture.ingest('T1', 'b2', [fakeRecord({ sequence: 2, occurredAt: onDay6(5) }), fakeRecord({ sequence: 3, occurredAt: onDay7(0) })]);
    expect(fixture.centre.settlement.report('2025-05-06')).toEqual(settled);
    expect(() => fixture.centre.settlement.settle('2025-05-06', 'alice')).toThrow(/already settled/);

    fixture.clock.set(AFTER_DAY_7);
    const next = fixture.centre.settlement.settle('2025-05-07', 'alice');
    expect(next.totals.count).toBe(2);
    expect(next.late.count).toBe(1);
    expect(next.late.items).toEqual([{ terminalId: 'T1', sequence: 2, businessDay: '2025-05-06', amountFen: 200 }]);
  });

  it('refuses to skip an open earlier day', () => {
    fixture = openClearingFixture(AFTER_DAY_7);
    fixture.ingest('T1', 'b1', [fakeRecord({ sequence: 1, occurredAt: onDay6(0) }), fakeRecord({ sequence: 2, occurredAt: onDay7(0) })]);
    expect(() => fixture.centre.settlement.settle('2025-05-07', 'alice')).toThrow(/settle the earlier business days first: 2025-05-06/);
  });

  it('rejects an invalid business day', () => {
    fixture = openClearingFixture(AFTER_DAY_6);
    for (const day of ['2025-5-6', '2025-02-30', 'yesterday', '']) {
      expect(() => fixture.centre.settlement.settle(day, 'alice')).toThrow(RangeError);
    }
  });

  it('holds out-of-town records until the issuer confirms', () => {
    fixture = openClearingFixture(AFTER_DAY_6);
    fixture.ingest('T1', 'b1', [
      fakeRecord({ sequence: 1, occurredAt: onDay6(0) }),
      fakeRecord({ sequence: 2, occurredAt: onDay6(1), issuerId: OUT_OF_TOWN_ISSUER, asn: '12340000000000000001' }),
    ]);
    const files = fixture.centre.forwardingFiles('2025-05-06', 'alice');
    expect(files.map((file) => [file.partnerCity, file.recordCount, file.amountFen])).toEqual([['1234', 1, 200]]);
    expect(files[0]?.content.split('\r\n')[0]).toBe('H|BF-TU-1|9900|1234|20250506|01|1|200');

    const day6 = fixture.centre.settlement.settle('2025-05-06', 'alice');
    expect(day6.totals.count).toBe(1);
    expect(day6.awaitingIssuer).toEqual({ count: 1, amountFen: 200, byPartner: [{ partnerCity: '1234', count: 1, amountFen: 200 }] });

    const answer = confirmAllAnswer(files[0]!, '9900', '2025-05-06');
    expect(fixture.centre.importVerdicts(answer, 'alice')).toEqual({ confirmed: 1, refused: 0 });
    fixture.clock.set(AFTER_DAY_7);
    const day7 = fixture.centre.settlement.settle('2025-05-07', 'alice');
    expect(day7.partners).toEqual([{ partnerCity: '1234', count: 1, receivableFen: 200, payableFen: 0, netFen: 200 }]);
    expect(day7.late.count).toBe(1);
  });

  it('rejects an answer naming unknown records', () => {
    fixture = openClearingFixture(AFTER_DAY_6);
    const answer = 'A|BF-TU-1|1234|9900|20250506|TU_9900_1234_20250506_01.txt\r\nR|T9|5|00|\r\nT|1\r\n';
    expect(() => fixture.centre.importVerdicts(answer, 'alice')).toThrow(/await no answer: T9#5/);
  });

  it('rejects an answer naming one record twice', () => {
    fixture = openClearingFixture(AFTER_DAY_6);
    fixture.ingest('T1', 'b1', [fakeRecord({ sequence: 1, occurredAt: onDay6(0), issuerId: OUT_OF_TOWN_ISSUER, asn: '12340000000000000001' })]);
    const [file] = fixture.centre.forwardingFiles('2025-05-06', 'alice');
    const header = `A|BF-TU-1|1234|9900|20250506|${file!.fileName}`;
    const contradicting = `${header}\r\nR|T1|1|51|TAC invalid\r\nR|T1|1|00|\r\nT|2\r\n`;

    expect(() => fixture.centre.importVerdicts(contradicting, 'alice')).toThrow(/line 3: record T1#1 is answered twice/);
    expect(fixture.centre.stores.settlement.awaitingIssuer('9999-12-31')).toHaveLength(1);
    expect(fixture.centre.importVerdicts(`${header}\r\nR|T1|1|00|\r\nT|1\r\n`, 'alice')).toEqual({ confirmed: 1, refused: 0 });
  });

  it('rejects a malformed answer file', () => {
    fixture = openClearingFixture(AFTER_DAY_6);
    const cases = ['', 'X|BF-TU-1|1234|9900|20250506|f\r\nT|0\r\n', 'A|BF-TU-1|1234|9900|20250506|f\r\nR|T1|x|00|\r\nT|1\r\n', 'A|BF-TU-1|1234|9900|20250506|f\r\nR|T1|1|00|\r\n'];
    for (const content of cases) {
      expect(() => fixture.centre.importVerdicts(content, 'alice')).toThrow(ClearingError);
    }
  });

  it('records each settlement in the audit log', () => {
    fixture = openClearingFixture(AFTER_DAY_6);
    fixture.ingest('T1', 'b1', [fakeRecord({ sequence: 1, occurredAt: onDay6(0) })]);
    fixture.centre.settlement.settle('2025-05-06', 'alice');
    const [entry] = fixture.centre.stores.operators.listAudit(10);
    expect(entry?.action).toBe('settlement.settle');
    expect(entry?.operator).toBe('alice');
    expect(entry?.target).toBe('2025-05-06');
  });

  describe('a failed audit write', () => {
    /** Makes every audit entry fail to write, as a full disk would. */
    const failAuditWrites = (): void => {
      fixture.repository.database.exec("CREATE TRIGGER fail_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
    };

    it('leaves the day unsettled', () => {
      fixture = openClearingFixture(AFTER_DAY_6);
      fixture.ingest('T1', 'b1', [fakeRecord({ sequence: 1, occurredAt: onDay6(0) })]);
      failAuditWrites();

      expect(() => fixture.centre.settlement.settle('2025-05-06', 'alice')).toThrow(/disk is full/);
      expect(fixture.centre.settlement.isSettled('2025-05-06')).toBe(false);
    });

    it('leaves the answers unrecorded', () => {
      fixture = openClearingFixture(AFTER_DAY_6);
      fixture.ingest('T1', 'b1', [fakeRecord({ sequence: 1, occurredAt: onDay6(0), issuerId: OUT_OF_TOWN_ISSUER, asn: '12340000000000000001' })]);
      const [file] = fixture.centre.forwardingFiles('2025-05-06', 'alice');
      failAuditWrites();

      expect(() => fixture.centre.importVerdicts(confirmAllAnswer(file!, '9900', '2025-05-06'), 'alice')).toThrow(/disk is full/);
      expect(fixture.centre.stores.settlement.awaitingIssuer('9999-12-31')).toHaveLength(1);
    });
  });
});
