import type { CardIdentity, DebitEvidence, LockRecord, OutboxRecord, TransactionRecord, TripContext } from '@busfare/shared-protocol';

/**
 * Life of a record in the terminal's outbox:
 *
 *   appendPending ──(recordDebit)──complete──▶ ready (kind purchase)
 *        │
 *        └──markInDoubt / recoverPending at start-up──▶ ready (kind in-doubt)
 *
 * A `pending` record was written before DEBIT left the terminal, and its outcome is not known
 * yet. The uplink sends `ready` records in sequence order and stops at the first pending one, so
 * acknowledgements stay contiguous. Resolution records (the outcome of an in-doubt record,
 * learned at a later tap of the same card) and lock records (a blacklisted card locked at the
 * door, no money) are appended as new ready records.
 */
export type RecordState = 'pending' | 'ready';

/** A ready record as the JSON text of one OutboxRecord, with its sequence. */
export interface ReadyRecordText {
  sequence: number;
  /** The stored text. For a quarantined record it is the damaged text as read. */
  json: string;
  /**
   * Why the stored text cannot be sent as the record of this sequence: it is not JSON, not an
   * object with this sequence, or fails the record schema that the back office applies. The store
   * has quarantined it. Undefined for an intact record.
   */
  damage?: string;
}

export interface PendingPurchase {
  occurredAt: string;
  card: CardIdentity;
  /** Debit evidence known before DEBIT: everything but the TAC and the balance after. */
  debit: DebitEvidence;
  trip: TripContext;
}

/** A card lock as the tap path reports it; the store gives it its sequence number. */
export type PendingLock = Omit<LockRecord, 'sequence' | 'kind'>;

export interface StoredRecord {
  record: OutboxRecord;
  state: RecordState;
  acknowledged: boolean;
}

/** An in-doubt purchase that a later tap of the same card may settle. */
export interface OpenInDoubt {
  sequence: number;
  record: TransactionRecord;
}

export interface TransactionStore {
  /**
   * Durably appends a pending purchase and returns its sequence number. Called before DEBIT is
   * sent; when this returns, the record survives a power cut.
   */
  appendPending(purchase: PendingPurchase): number;
  /**
   * Durably turns a pending record into a completed purchase with the card's TAC. Throws
   * TransactionStoreError `not-found` or `invalid-state` unless the record is pending, and
   * `invalid-state` when recordDebit() stored another TAC or balance.
   */
  complete(sequence: number, result: { tac: string; balanceAfterFen: number; mac2Verified: boolean }): TransactionRecord;
  /**
   * Durably adds the card's TAC and the balance after DEBIT to a pending record, which stays
   * pending (never sent) until complete() adds the MAC2 verdict. A complete() with the same TAC
   * then needs no disk flush of its own, and recoverPending() turns the record into a completed
   * purchase without a verdict instead of an in-doubt one. Throws `not-found` or `invalid-state`
   * unless the record is pending without a TAC.
   */
  recordDebit(sequence: number, result: { tac: string; balanceAfterFen: number }): void;
  /** Durably turns a pending record into an in-doubt record (DEBIT got no answer). */
  markInDoubt(sequence: number): TransactionRecord;
  /**
   * Runs housekeeping that a tap should not wait for, such as a WAL checkpoint. Called while no
   * card is being processed.
   */
  maintainWhileIdle?(): void;
  /**
   * Turns every pending record left by a crash into an in-doubt record, or into a completed
   * purchase when recordDebit() stored its TAC; returns how many. A pending record whose stored
   * text is damaged becomes ready as it is, so that readReadyText() quarantines it.
   */
  recoverPending(): number;
  /**
   * The open in-doubt record of this card application serial number, if any. With several, the
   * newest, because GET TRANSACTION PROOF only proves the card's last transaction. A record whose
   * stored text is damaged is left out here and in listOpenInDoubt().
   */
  findOpenInDoubt(asn: string): OpenInDoubt | undefined;
  /** Every open in-doubt record, oldest first. */
  listOpenInDoubt(): OpenInDoubt[];
  /**
   * Durably appends a resolution of an in-doubt record and closes it. For `debited`, `proof`
   * carries the TAC (and MAC2 check) from GET TRANSACTION PROOF.
   */
  appendResolution(
    inDoubtSequence: number,
    outcome: 'debited' | 'not-debited',
    proof: { tac?: string; mac2Verified?: boolean; balanceAfterFen?: number; occurredAt: string },
  ): TransactionRecord;
  /** Durably appends a ready lock record and returns it. */
  appendLock(lock: PendingLock): LockRecord;
  /**
   * Ready records with sequence > afterSequence, in order, stopping before the first pending one.
   * Quarantined records are left out, because their text no longer reads as a valid record.
   */
  readReady(afterSequence: number, limit: number): OutboxRecord[];
  /**
   * The ready records with sequence > afterSequence, in order, stopping before the first pending
   * one, each as its stored JSON text, so the uplink sends them without parsing and serialising
   * them again. A record whose text is damaged is copied to quarantine and returned with `damage`
   * set, so one damaged row never stops the outbox.
   */
  readReadyText(afterSequence: number, limit: number): ReadyRecordText[];
  /**
   * Records the back office acknowledgement up to and including this sequence. A sequence at or
   * below ackedThrough() changes nothing. Throws `invalid-acknowledgement` when the sequence is
   * above lastSequence() or covers a pending record, because neither was ever sent.
   */
  acknowledge(throughSequence: number): void;
  /** Highest acknowledged sequence (0 when none). */
  ackedThrough(): number;
  /** Highest sequence ever allocated (0 when none). */
  lastSequence(): number;
  /** Records not yet acknowledged. */
  backlog(): number;
  /**
   * Deletes acknowledged records whose occurredAt is before the cut-off; returns how many. Open
   * in-doubt records are kept, because a later tap of the card still needs them.
   */
  pruneAcknowledged(olderThan: Date): number;
  /** One record with its state, or undefined when it never existed or was pruned. */
  get(sequence: number): StoredRecord | undefined;
  close(): void;
}
