import Database from 'better-sqlite3';
import type { TransactionRecord } from '@busfare/shared-protocol';
import type { AcceptedTransaction, RejectedInput } from '../store/clearing-repository.js';
import { maskCardNumber } from './card-masking.js';

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS card_evidence (
  evidence_key TEXT PRIMARY KEY,
  terminal_id TEXT NOT NULL,
  sequence INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS psam_bindings (
  psam_terminal_number TEXT PRIMARY KEY,
  terminal_id TEXT NOT NULL,
  bound_at TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('first-use', 'operator'))
) WITHOUT ROWID;`;

/** Records of one batch split into those that may be stored and those rejected with a reason. */
export interface EvidenceScreenResult {
  accepted: AcceptedTransaction[];
  rejected: RejectedInput[];
}

/** A check that ingest runs on a batch's verified records before it stores them. */
export interface EvidenceScreen {
  screen(terminalId: string, topic: string, accepted: readonly AcceptedTransaction[]): EvidenceScreenResult;
}

export interface PsamBinding {
  psamTerminalNumber: string;
  terminalId: string;
  boundAt: string;
  /** Origin of the binding: `first-use` (the first record that carried it) or `operator` (bindPsam()). */
  source: 'first-use' | 'operator';
}

/**
 * Detects card evidence that is presented twice, under another terminal or another sequence
 * number, and records whose PSAM belongs to another terminal.
 *
 * Every record that carries a TAC claims two keys when it is first accepted:
 * - the card's debit: ASN and card offline counter, which the card raises by one per debit;
 * - the TAC-covered fields: ASN, PSAM terminal number, PSAM transaction serial, card date and
 *   time, and the TAC itself. The TAC does not cover the card counter, so a copy with an edited
 *   counter still collides here.
 * A later record that claims a key already held by another (terminalId, sequence) is rejected as a
 * replay. The same record sent again under its own (terminalId, sequence) passes, so a resent
 * batch stays idempotent.
 *
 * Each PSAM terminal number is bound to the first terminal that sends a record with it (or to the
 * terminal an operator names with bindPsam). A record of a PSAM bound to another terminal is
 * rejected before it claims anything, so a record copied into a stolen terminal's batch cannot
 * take the evidence away from the genuine record that its own terminal sends later.
 *
 * Rejected records go to the rejected-transactions table with their reason; nothing is dropped.
 * Only records that already passed the TAC check reach screen(), so a forged record cannot claim
 * the evidence of a genuine one.
 */
export class EvidenceLedger implements EvidenceScreen {
  private readonly db: Database.Database;
  private readonly statements;

  /** Opens the evidence tables in the clearing database at `path` (created when missing). */
  constructor(path: string, private readonly now: () => Date = () => new Date()) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // A claim must be as durable as the record it protects, which the repository writes with FULL.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA_SQL);
    this.statements = {
      claim: this.db.prepare<[string, string, number]>('INSERT OR IGNORE INTO card_evidence (evidence_key, terminal_id, sequence) VALUES (?, ?, ?)'),
      claimant: this.db.prepare<[string], { terminalId: string; sequence: number }>('SELECT terminal_id AS terminalId, sequence FROM card_evidence WHERE evidence_key = ?'),
      binding: this.db.prepare<[string], PsamBinding>(
        'SELECT psam_terminal_number AS psamTerminalNumber, terminal_id AS terminalId, bound_at AS boundAt, source FROM psam_bindings WHERE psam_terminal_number = ?',
      ),
      bindFirstUse: this.db.prepare<[string, string, string]>("INSERT OR IGNORE INTO psam_bindings (psam_terminal_number, terminal_id, bound_at, source) VALUES (?, ?, ?, 'first-use')"),
      bindOperator: this.db.prepare<[string, string, string]>(
        "INSERT INTO psam_bindings (psam_terminal_number, terminal_id, bound_at, source) VALUES (?, ?, ?, 'operator') ON CONFLICT (psam_terminal_number) DO UPDATE SET terminal_id = excluded.terminal_id, bound_at = excluded.bound_at, source = 'operator'",
      ),
    };
  }

  screen(terminalId: string, topic: string, accepted: readonly AcceptedTransaction[]): EvidenceScreenResult {
    const result: EvidenceScreenResult = { accepted: [], rejected: [] };
    // One write transaction per batch: one fsync, records of the same batch see each other's
    // claims, and BEGIN IMMEDIATE keeps two ingest workers from both claiming one key.
    const screenBatch = this.db.transaction(() => {
      for (const item of accepted) {
        const reason = carriesTac(item.record) ? this.claim(terminalId, item.record) : undefined;
        if (reason === undefined) result.accepted.push(item);
        else result.rejected.push({ terminalId, topic, sequence: item.record.sequence, reason, payload: item.raw });
      }
    });
    screenBatch.immediate();
    return result;
  }

  /**
   * Binds a PSAM terminal number (12 hex digits) to a terminal, replacing any earlier binding. An
   * operator uses it after moving a PSAM to another validator.
   */
  bindPsam(psamTerminalNumber: string, terminalId: string): void {
    const psam = normalisePsam(psamTerminalNumber);
    this.statements.bindOperator.run(psam, terminalId, this.now().toISOString());
  }

  psamBinding(psamTerminalNumber: string): PsamBinding | undefined {
    return this.statements.binding.get(normalisePsam(psamTerminalNumber));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Returns the rejection reason, or claims the record's evidence and returns undefined. */
  private claim(terminalId: string, record: TransactionRecord): string | undefined {
    const { card, debit } = record;
    const psam = normalisePsam(debit.psamTerminalNumber);
    const asn = card.asn.toUpperCase();
    // Reasons are logged and shown in the console, so they carry the masked card number only.
    const masked = maskCardNumber(asn);
    const keys = [
      { key: `counter:${asn}:${debit.cardCounter}`, describe: () => `card ${masked} counter ${debit.cardCounter}` },
      { key: `tac:${asn}:${psam}:${debit.terminalSerial}:${debit.cardDateTime}:${(debit.tac ?? '').toUpperCase()}`, describe: () => `the TAC of card ${masked} with PSAM ${psam} serial ${debit.terminalSerial}` },
    ];
    const holders = keys.map(({ key }) => this.statements.claimant.get(key));
    const ownClaim = (holder: { terminalId: string; sequence: number } | undefined) => holder?.terminalId === terminalId && holder.sequence === record.sequence;
    // A resend of a record already accepted under this (terminalId, sequence) passes, even after
    // its PSAM was rebound to another terminal.
    if (holders.every(ownClaim)) return undefined;

    const owner = this.statements.binding.get(psam)?.terminalId;
    if (owner !== undefined && owner !== terminalId) {
      return `PSAM terminal number ${psam} belongs to terminal ${owner}, not ${terminalId}: the record was copied from another terminal, or the PSAM was moved without rebinding it`;
    }
    for (const [index, holder] of holders.entries()) {
      if (holder !== undefined && !ownClaim(holder)) {
        return `replayed card evidence: ${keys[index]!.describe()} was already accepted as terminal ${holder.terminalId} sequence ${holder.sequence}`;
      }
    }

    for (const { key } of keys) this.statements.claim.run(key, terminalId, record.sequence);
    if (owner === undefined) this.statements.bindFirstUse.run(psam, terminalId, this.now().toISOString());
    return undefined;
  }
}

/** Purchases and debited resolutions carry a TAC. In-doubt records and not-debited resolutions do not. */
function carriesTac(record: TransactionRecord): boolean {
  return record.debit.tac !== undefined && (record.kind === 'purchase' || (record.kind === 'resolution' && record.outcome === 'debited'));
}

function normalisePsam(psamTerminalNumber: string): string {
  const psam = psamTerminalNumber.toUpperCase();
  if (!/^[0-9A-F]{12}$/.test(psam)) throw new RangeError(`invalid PSAM terminal number "${psamTerminalNumber}": expected 6 bytes as 12 hex digits`);
  return psam;
}
