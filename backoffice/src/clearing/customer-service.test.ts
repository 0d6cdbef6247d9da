import { afterEach, describe, expect, it } from 'vitest';
import { fakeRecord } from '../testing/fake-terminal.js';
import { type ClearingFixture, openClearingFixture } from '../testing/clearing-fixture.js';
import { CustomerService } from './customer-service.js';

const LOST = '99000001000000001001';
const REPLACEMENT = '99000001000000009001';

describe('CustomerService', () => {
  let fixture: ClearingFixture;
  afterEach(() => fixture?.close());

  function service(blacklisted: readonly string[] = []): CustomerService {
    return new CustomerService({
      store: fixture.centre.stores.exceptions,
      audit: fixture.centre.audit,
      rule: fixture.rule,
      isBlacklisted: (asn) => blacklisted.includes(asn),
      now: fixture.clock.now,
    });
  }

  it('settles an approved refund as a negative amount', () => {
    fixture = openClearingFixture('2025-05-06T05:00:00Z');
    fixture.ingest('T1', 'b1', [fakeRecord({ sequence: 1, occurredAt: new Date('2025-05-06T01:30:00Z') })]);
    const customer = service();
    const refund = customer.requestRefund({ asn: LOST, amountFen: 200, reason: '重复扣款' }, 'clerk');
    expect(refund.state).toBe('pending');
    expect(customer.decide(refund.id, 'approved', 'chief').state).toBe('approved');
    fixture.clock.set('2025-05-06T19:00:00Z');
    const report = fixture.centre.settlement.settle('2025-05-06', 'chief');
    expect(report.totals.amountFen).toBe(0);
    expect(report.adjustments).toEqual([{ key: 'refund', count: 1, amountFen: -200, listFareFen: -200, discountFen: 0 }]);
  });

  it('keeps the requester from approving', () => {
    fixture = openClearingFixture();
    const customer = service();
    const refund = customer.requestRefund({ asn: LOST, amountFen: 200, reason: 'x' }, 'clerk');
    expect(() => customer.decide(refund.id, 'approved', 'clerk')).toThrow(/cannot approve/);
    customer.decide(refund.id, 'declined', 'chief');
    expect(() => customer.decide(refund.id, 'approved', 'chief')).toThrow(/already declined/);
  });

  it('rejects invalid refunds and adjustments', () => {
    fixture = openClearingFixture();
    const customer = service();
    expect(() => customer.requestRefund({ asn: LOST, amountFen: 0, reason: 'x' }, 'clerk')).toThrow(/invalid refund amount/);
    expect(() => customer.requestRefund({ asn: LOST, amountFen: 1.5, reason: 'x' }, 'clerk')).toThrow(/invalid refund amount/);
    expect(() => customer.requestRefund({ asn: 'abc', amountFen: 100, reason: 'x' }, 'clerk')).toThrow(/invalid card number/);
    expect(() => customer.requestRefund({ asn: LOST, amountFen: 100, reason: '  ' }, 'clerk')).toThrow(/reason is required/);
    expect(() => customer.requestAdjustment({ asn: LOST, amountFen: 0, reason: 'x' }, 'clerk')).toThrow(/invalid adjustment/);
  });

  it('moves a lost card balance only after blacklisting', () => {
    fixture = openClearingFixture();
    fixture.ingest('T1', 'b1', [fakeRecord({ sequence: 1, asn: LOST, amountFen: 200 })]);
    expect(() => service().requestBalanceTransfer({ lostAsn: LOST, replacementAsn: REPLACEMENT, reason: '挂失补卡' }, 'clerk')).toThrow(/is not blacklisted/);
    const transfer = service([LOST]).requestBalanceTransfer({ lostAsn: LOST, replacementAsn: REPLACEMENT, reason: '挂失补卡' }, 'clerk');
    expect(transfer).toMatchObject({ kind: 'balance-transfer', asn: LOST, targetAsn: REPLACEMENT, amountFen: 4800 });
  });

  it('refuses a transfer with no known balance or to the same card', () => {
    fixture = openClearingFixture();
    expect(() => service([LOST]).requestBalanceTransfer({ lostAsn: LOST, replacementAsn: REPLACEMENT, reason: 'x' }, 'clerk')).toThrow(/balance is not known/);
    expect(() => service([LOST]).requestBalanceTransfer({ lostAsn: LOST, replacementAsn: LOST, reason: 'x' }, 'clerk')).toThrow(/must differ/);
  });
});
