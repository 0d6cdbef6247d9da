import type { PendingLock, PendingPurchase } from './transaction-store.js';

/** Test data: a pending purchase of 2.00 yuan on route 12 by card `asn`. */
export function samplePurchase(asn = '3104000000000001', occurredAt = '2026-01-05T08:00:00+08:00', terminalSerial = 1): PendingPurchase {
  return {
    occurredAt,
    card: { application: 'tunion', medium: 'card', asn, issuerId: '3104000000000000', cardType: '01' },
    debit: {
      transactionType: 0x06,
      amountFen: 200,
      listFareFen: 200,
      balanceBeforeFen: 5000,
      cardCounter: 7,
      cardRandom: '1A2B3C4D',
      keyVersion: 1,
      algorithmId: 0,
      psamTerminalNumber: '010203040506',
      terminalSerial,
      cardDateTime: '20260105080000',
    },
    trip: { vehicleId: 'BUS-0001', route: '12', direction: 0, stopId: 'S012-03' },
  };
}

export const sampleCompletion = { tac: 'A1B2C3D4', balanceAfterFen: 4800, mac2Verified: true };

/** Test data: blacklisted card `asn` locked at the door of route 12. */
export function sampleLock(asn = '3104000000000009', occurredAt = '2026-01-05T08:05:00+08:00'): PendingLock {
  return {
    occurredAt,
    card: { application: 'tunion', asn, issuerId: '3104000000000000' },
    lock: { locked: true, psamTerminalNumber: '010203040506' },
    trip: { vehicleId: 'BUS-0001', route: '12', direction: 0 },
  };
}
