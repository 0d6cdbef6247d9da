import { lockRecordSchema, transactionRecordSchema } from '@busfare/shared-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransactionStoreError } from './store-errors.js';
import { sampleCompletion, sampleLock, samplePurchase } from './transaction-fixtures.js';
import type { TransactionStore } from './transaction-store.js';

/** Creates a fresh, empty store for one test and disposes of it afterwards. */
export interface StoreHarness {
  create(): TransactionStore;
  dispose(): void;
}

function expectStoreError(action: () => unknown, code: TransactionStoreError['code']): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(TransactionStoreError);
  expect((caught as TransactionStoreError).code).toBe(code);
}

/** The behaviour every TransactionStore shares; each implementation runs it from its own test file. */
export function transactionStoreContract(name: string, harness: StoreHarness): void {
  describe(`${name} (TransactionStore contract)`, () => {
    let store: TransactionStore;

    beforeEach(() => {
      store = harness.create();
    });

    afterEach(() => {
      store.close();
      harness.dispose();
    });

    it('starts empty', () => {
      expect(store.lastSequence()).toBe(0);
      expect(store.ackedThrough()).toBe(0);
      expect(store.backlog()).toBe(0);
      expect(store.readReady(0, 10)).toEqual([]);
      expect(store.listOpenInDoubt()).toEqual([]);
    });

    it('allocates sequences from 1 upwards', () => {
      expect(store.appendPending(samplePurchase())).toBe(1);
      expect(store.appendPending(samplePurchase())).toBe(2);
      expect(store.lastSequence()).toBe(2);
    });

    it('keeps a pending record out of readReady', () => {
      const sequence = store.appendPending(samplePurchase());
      expect(store.get(sequence)?.state).toBe('pending');
      expect(store.readReady(0, 10)).toEqual([]);
      expect(store.backlog()).toBe(1);
    });

    it('completes a pending purchase', () => {
      const sequence = store.appendPending(samplePurchase());
      const record = store.complete(sequence, sampleCompletion);

      expect(record.kind).toBe('purchase');
      expect(record.debit.tac).toBe('A1B2C3D4');
      expect(record.debit.balanceAfterFen).toBe(4800);
      expect(record.debit.mac2Verified).toBe(true);
      expect(transactionRecordSchema.safeParse(record).success).toBe(true);
      expect(store.get(sequence)).toEqual({ record, state: 'ready', acknowledged: false });
      expect(store.readReady(0, 10)).toEqual([record]);
    });

    it('appends a ready lock record', () => {
      const record = store.appendLock(sampleLock());

      expect(record).toMatchObject({ sequence: 1, kind: 'lock', card: { asn: '3104000000000009' }, lock: { locked: true } });
      expect(lockRecordSchema.safeParse(record).success).toBe(true);
      expect(store.get(1)).toEqual({ record, state: 'ready', acknowledged: false });
      expect(store.readReady(0, 10)).toEqual([record]);
      expect(store.backlog()).toBe(1);
      expect(store.listOpenInDoubt()).toEqual([]);
    });

    it('orders lock records among purchases', () => {
      const first = store.appendPending(samplePurchase());
      store.complete(first, sampleCompletion);
      const lock = store.appendLock(sampleLock());
      const pending = store.appendPending(samplePurchase());

      expect(lock.sequence).toBe(2);
      expect(store.readReady(0, 10).map((record) => record.kind)).toEqual(['purchase', 'lock']);
      store.acknowledge(2);
      expect(store.ackedThrough()).toBe(2);
      expect(store.get(pending)?.state).toBe('pending');
    });

    it('prunes an acknowledged lock record', () => {
      store.appendLock(sampleLock());
      store.acknowledge(1);

      expect(store.pruneAcknowledged(new Date('2026-02-01T00:00:00Z'))).toBe(1);
      expect(store.get(1)).toBeUndefined();
    });

    it('rejects completing a lock record', () => {
      store.appendLock(sampleLock());

      expectStoreError(() => store.complete(1, sampleCompletion), 'invalid-state');
    });

    it('rejects completing a record twice', () => {
      const sequence = store.appendPending(samplePurchase());
      store.complete(sequence, sampleCompletion);
      expectStoreError(() => store.complete(sequence, sampleCompletion), 'invalid-state');
      expectStoreError(() => store.markInDoubt(sequence), 'invalid-state');
    });

    it('rejects an unknown sequence', () => {
      expectStoreError(() => store.complete(99, sampleCompletion), 'not-found');
      expectStoreError(() => store.markInDoubt(99), 'not-found');
      expectStoreError(() => store.appendResolution(99, 'not-debited', { occurredAt: '2026-01-05T08:01:00+08:00' }), 'not-found');
    });

    it('rejects an invalid purchase without using a sequence', () => {
      const purchase = samplePurchase();
      purchase.debit.cardRandom = 'not hex';
      expectStoreError(() => store.appendPending(purchase), 'invalid-record');
      expect(store.lastSequence()).toBe(0);
      expect(store.appendPending(samplePurchase())).toBe(1);
    });

    it('keeps a record pending after an invalid completion', () => {
      const sequence = store.appendPending(samplePurchase());
      expectStoreError(() => store.complete(sequence, { ...sampleCompletion, tac: 'a1b2' }), 'invalid-record');
      expect(store.get(sequence)?.state).toBe('pending');
    });

    it('marks a pending record in doubt', () => {
      const sequence = store.appendPending(samplePurchase('3104000000000009'));
      const record = store.markInDoubt(sequence);

      expect(record.kind).toBe('in-doubt');
      expect(record.debit.tac).toBeUndefined();
      expect(store.get(sequence)?.state).toBe('ready');
      expect(store.findOpenInDoubt('3104000000000009')).toEqual({ sequence, record });
      expect(store.findOpenInDoubt('3104000000000001')).toBeUndefined();
      expect(store.listOpenInDoubt()).toEqual([{ sequence, record }]);
      expect(store.readReady(0, 10)).toEqual([record]);
    });

    it('recovers crash leftovers as in-doubt records', () => {
      const first = store.appendPending(samplePurchase('3104000000000001'));
      const second = store.appendPending(samplePurchase('3104000000000002'));
      store.complete(second, sampleCompletion);
      const third = store.appendPending(samplePurchase('3104000000000003'));

      expect(store.recoverPending()).toBe(2);
      expect(store.recoverPending()).toBe(0);
      expect(store.get(first)?.record.kind).toBe('in-doubt');
      expect(store.get(second)?.record.kind).toBe('purchase');
      expect(store.get(third)?.record.kind).toBe('in-doubt');
      expect(store.listOpenInDoubt().map((entry) => entry.sequence)).toEqual([first, third]);
      expect(store.readReady(0, 10).map((record) => record.sequence)).toEqual([1, 2, 3]);
    });

    it('keeps a debited record pending', () => {
      const sequence = store.appendPending(samplePurchase());
      store.recordDebit(sequence, { tac: 'A1B2C3D4', balanceAfterFen: 4800 });

      const stored = store.get(sequence);
      expect(stored?.state).toBe('pending');
      expect(stored?.record).toMatchObject({ kind: 'purchase', debit: { tac: 'A1B2C3D4', balanceAfterFen: 4800 } });
      expect(stored?.record).not.toHaveProperty('debit.mac2Verified');
      expect(store.readReady(0, 10)).toEqual([]);
      expect(store.listOpenInDoubt()).toEqual([]);
    });

    it('completes a debited record', () => {
      const sequence = store.appendPending(samplePurchase());
      store.recordDebit(sequence, { tac: 'A1B2C3D4', balanceAfterFen: 4800 });
      const record = store.complete(sequence, { ...sampleCompletion, mac2Verified: false });

      expect(record.debit.mac2Verified).toBe(false);
      expect(transactionRecordSchema.safeParse(record).success).toBe(true);
      expect(store.get(sequence)).toEqual({ record, state: 'ready', acknowledged: false });
      expect(store.readReady(0, 10)).toEqual([record]);
    });

    it('recovers a debited record as a purchase', () => {
      const debited = store.appendPending(samplePurchase('3104000000000001'));
      store.recordDebit(debited, { tac: 'A1B2C3D4', balanceAfterFen: 4800 });
      const torn = store.appendPending(samplePurchase('3104000000000002'));

      expect(store.recoverPending()).toBe(2);
      const recovered = store.get(debited);
      expect(recovered?.state).toBe('ready');
      expect(recovered?.record).toMatchObject({ kind: 'purchase', debit: { tac: 'A1B2C3D4', balanceAfterFen: 4800 } });
      expect(recovered?.record).not.toHaveProperty('debit.mac2Verified');
      expect(transactionRecordSchema.safeParse(recovered?.record).success).toBe(true);
      expect(store.listOpenInDoubt().map((entry) => entry.sequence)).toEqual([torn]);
      expect(store.readReady(0, 10).map((record) => record.sequence)).toEqual([debited, torn]);
    });

    it('rejects a completion with another TAC', () => {
      const sequence = store.appendPending(samplePurchase());
      store.recordDebit(sequence, { tac: 'A1B2C3D4', balanceAfterFen: 4800 });

      expectStoreError(() => store.complete(sequence, { ...sampleCompletion, tac: '00000000' }), 'invalid-state');
      expectStoreError(() => store.complete(sequence, { ...sampleCompletion, balanceAfterFen: 4700 }), 'invalid-state');
      expect(store.get(sequence)?.state).toBe('pending');
    });

    it('rejects recording a debit twice', () => {
      const sequence = store.appendPending(samplePurchase());
      store.recordDebit(sequence, { tac: 'A1B2C3D4', balanceAfterFen: 4800 });

      expectStoreError(() => store.recordDebit(sequence, { tac: 'A1B2C3D4', balanceAfterFen: 4800 }), 'invalid-state');
    });

    it('rejects marking a debited record in doubt', () => {
      const sequence = store.appendPending(samplePurchase());
      store.recordDebit(sequence, { tac: 'A1B2C3D4', balanceAfterFen: 4800 });

      expectStoreError(() => store.markInDoubt(sequence), 'invalid-state');
      expect(store.get(sequence)?.state).toBe('pending');
    });

    it('rejects a debit outside pending records', () => {
      const completed = store.appendPending(samplePurchase());
      store.complete(completed, sampleCompletion);

      expectStoreError(() => store.recordDebit(completed, { tac: 'A1B2C3D4', balanceAfterFen: 4800 }), 'invalid-state');
      expectStoreError(() => store.recordDebit(99, { tac: 'A1B2C3D4', balanceAfterFen: 4800 }), 'not-found');
    });

    it('rejects an invalid debit result', () => {
      const sequence = store.appendPending(samplePurchase());

      expectStoreError(() => store.recordDebit(sequence, { tac: 'a1b2', balanceAfterFen: 4800 }), 'invalid-record');
      expect(store.get(sequence)?.record).not.toHaveProperty('debit.tac');
    });

    it('stops readReady at the first pending record', () => {
      store.complete(store.appendPending(samplePurchase()), sampleCompletion);
      const pending = store.appendPending(samplePurchase());
      store.complete(store.appendPending(samplePurchase()), sampleCompletion);

      expect(store.readReady(0, 10).map((record) => record.sequence)).toEqual([1]);
      expect(store.readReady(1, 10)).toEqual([]);

      store.complete(pending, sampleCompletion);
      expect(store.readReady(0, 10).map((record) => record.sequence)).toEqual([1, 2, 3]);
    });

    it('honours afterSequence and limit in readReady', () => {
      for (let i = 0; i < 5; i += 1) store.complete(store.appendPending(samplePurchase()), sampleCompletion);
      expect(store.readReady(0, 2).map((record) => record.sequence)).toEqual([1, 2]);
      expect(store.readReady(2, 2).map((record) => record.sequence)).toEqual([3, 4]);
      expect(store.readReady(4, 10).map((record) => record.sequence)).toEqual([5]);
      expect(store.readReady(5, 10)).toEqual([]);
    });

    it('returns readReady records as JSON text', () => {
      for (let i = 0; i < 3; i += 1) store.complete(store.appendPending(samplePurchase()), sampleCompletion);
      store.appendPending(samplePurchase());
      const texts = store.readReadyText(1, 10);

      expect(texts.map((text) => text.sequence)).toEqual([2, 3]);
      expect(texts.map((text) => JSON.parse(text.json))).toEqual(store.readReady(1, 10));
      expect(store.readReadyText(0, 1).map((text) => text.sequence)).toEqual([1]);
    });

    it('settles an in-doubt record as debited', () => {
      const inDoubt = store.appendPending(samplePurchase('3104000000000005'));
      store.markInDoubt(inDoubt);
      const resolution = store.appendResolution(inDoubt, 'debited', {
        tac: '0F0E0D0C',
        mac2Verified: true,
        balanceAfterFen: 4800,
        occurredAt: '2026-01-05T09:00:00+08:00',
      });

      expect(resolution.sequence).toBe(2);
      expect(resolution.kind).toBe('resolution');
      expect(resolution.resolvesSequence).toBe(inDoubt);
      expect(resolution.outcome).toBe('debited');
      expect(resolution.debit.tac).toBe('0F0E0D0C');
      expect(resolution.card.asn).toBe('3104000000000005');
      expect(resolution.occurredAt).toBe('2026-01-05T09:00:00+08:00');
      expect(transactionRecordSchema.safeParse(resolution).success).toBe(true);
      expect(store.findOpenInDoubt('3104000000000005')).toBeUndefined();
      expect(store.listOpenInDoubt()).toEqual([]);
      expect(store.readReady(0, 10).map((record) => record.kind)).toEqual(['in-doubt', 'resolution']);
    });

    it('settles an in-doubt record as not debited', () => {
      const inDoubt = store.appendPending(samplePurchase());
      store.markInDoubt(inDoubt);
      const resolution = store.appendResolution(inDoubt, 'not-debited', { occurredAt: '2026-01-05T09:00:00+08:00' });

      expect(resolution.outcome).toBe('not-debited');
      expect(resolution.debit.tac).toBeUndefined();
      expect(store.listOpenInDoubt()).toEqual([]);
    });

    it('rejects a second resolution', () => {
      const inDoubt = store.appendPending(samplePurchase());
      store.markInDoubt(inDoubt);
      store.appendResolution(inDoubt, 'not-debited', { occurredAt: '2026-01-05T09:00:00+08:00' });
      expectStoreError(() => store.appendResolution(inDoubt, 'not-debited', { occurredAt: '2026-01-05T09:00:00+08:00' }), 'invalid-state');
      expect(store.lastSequence()).toBe(2);
    });

    it('rejects resolving a completed purchase', () => {
      const sequence = store.appendPending(samplePurchase());
      store.complete(sequence, sampleCompletion);
      expectStoreError(() => store.appendResolution(sequence, 'not-debited', { occurredAt: '2026-01-05T09:00:00+08:00' }), 'invalid-state');
    });

    it('rejects a debited resolution without TAC', () => {
      const inDoubt = store.appendPending(samplePurchase());
      store.markInDoubt(inDoubt);
      expectStoreError(() => store.appendResolution(inDoubt, 'debited', { occurredAt: '2026-01-05T09:00:00+08:00' }), 'invalid-record');
      expect(store.findOpenInDoubt(samplePurchase().card.asn)?.sequence).toBe(inDoubt);
      expect(store.lastSequence()).toBe(1);
    });

    it('finds the newest open in-doubt record of a card', () => {
      const older = store.appendPending(samplePurchase());
      store.markInDoubt(older);
      const newer = store.appendPending(samplePurchase());
      store.markInDoubt(newer);
      expect(store.findOpenInDoubt(samplePurchase().card.asn)?.sequence).toBe(newer);
    });

    it('acknowledges records up to a sequence', () => {
      for (let i = 0; i < 3; i += 1) store.complete(store.appendPending(samplePurchase()), sampleCompletion);
      store.acknowledge(2);

      expect(store.ackedThrough()).toBe(2);
      expect(store.get(2)?.acknowledged).toBe(true);
      expect(store.get(3)?.acknowledged).toBe(false);
      expect(store.backlog()).toBe(1);

      store.acknowledge(1);
      expect(store.ackedThrough()).toBe(2);
    });

    it('rejects an acknowledgement above the last sequence', () => {
      store.complete(store.appendPending(samplePurchase()), sampleCompletion);
      expectStoreError(() => store.acknowledge(2), 'invalid-acknowledgement');
      expect(store.ackedThrough()).toBe(0);
    });

    it('rejects an acknowledgement covering a pending record', () => {
      store.complete(store.appendPending(samplePurchase()), sampleCompletion);
      store.appendPending(samplePurchase());
      expectStoreError(() => store.acknowledge(2), 'invalid-acknowledgement');
      store.acknowledge(1);
      expect(store.ackedThrough()).toBe(1);
    });

    it('prunes only acknowledged old records', () => {
      store.complete(store.appendPending(samplePurchase(undefined, '2026-01-01T08:00:00+08:00')), sampleCompletion);
      store.complete(store.appendPending(samplePurchase(undefined, '2026-01-02T08:00:00+08:00')), sampleCompletion);
      store.complete(store.appendPending(samplePurchase(undefined, '2026-01-01T09:00:00+08:00')), sampleCompletion);
      store.acknowledge(2);

      expect(store.pruneAcknowledged(new Date('2026-01-02T00:00:00+08:00'))).toBe(1);
      expect(store.get(1)).toBeUndefined();
      expect(store.get(2)?.acknowledged).toBe(true);
      expect(store.get(3)?.acknowledged).toBe(false);
      expect(store.backlog()).toBe(1);
      expect(store.ackedThrough()).toBe(2);
    });

    it('keeps open in-doubt records when pruning', () => {
      const inDoubt = store.appendPending(samplePurchase(undefined, '2026-01-01T08:00:00+08:00'));
      store.markInDoubt(inDoubt);
      store.acknowledge(inDoubt);

      expect(store.pruneAcknowledged(new Date('2026-02-01T00:00:00+08:00'))).toBe(0);
      expect(store.findOpenInDoubt(samplePurchase().card.asn)?.sequence).toBe(inDoubt);
    });

    it('never reuses a sequence after pruning', () => {
      store.complete(store.appendPending(samplePurchase(undefined, '2026-01-01T08:00:00+08:00')), sampleCompletion);
      store.complete(store.appendPending(samplePurchase(undefined, '2026-01-01T08:00:00+08:00')), sampleCompletion);
      store.acknowledge(2);
      expect(store.pruneAcknowledged(new Date('2026-02-01T00:00:00+08:00'))).toBe(2);

      expect(store.lastSequence()).toBe(2);
      expect(store.appendPending(samplePurchase())).toBe(3);
      expect(store.backlog()).toBe(1);
    });
  });
}
