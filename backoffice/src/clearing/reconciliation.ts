import type { BusinessDayRule } from '../ingest/business-day.js';
import type { SqliteExceptionStore } from '../store/exception-store.js';
import type { DayRecordRow, SqliteReconciliationStore } from '../store/reconciliation-store.js';
import type { SqliteSettlementStore, StoredShift } from '../store/settlement-store.js';
import { assertBusinessDay, businessDayEnd, businessDayOf, previousBusinessDay } from './business-days.js';
import { categoryOfReason } from './rejection-category.js';

export type FindingKind =
  | 'sequence-gap'
  | 'redelivered-batch'
  | 'rejected-record'
  | 'shift-mismatch'
  | 'in-doubt-open'
  | 'card-counter-repeat'
  | 'card-counter-backwards'
  | 'card-counter-gap';

/**
 * One difference found by reconciliation. The catalogue entry `reconcile.action.{kind}` gives
 * the operator what to do about it.
 */
export interface Finding {
  kind: FindingKind;
  severity: 'info' | 'warning' | 'error';
  terminalId?: string;
  /** Sequence range of the terminal's records the finding is about. */
  sequences?: { from: number; to: number };
  asn?: string;
  shiftId?: string;
  /** Facts for the message: counters, reasons, amounts. */
  details: Record<string, string | number>;
}

export interface ReconciliationReport {
  businessDay: string;
  /** Records of the day: stored, rejected and terminals involved. */
  checked: { records: number; rejected: number; terminals: number; shifts: number; cards: number };
  findings: Finding[];
}

export interface ReconciliationOptions {
  store: SqliteReconciliationStore;
  settlement: SqliteSettlementStore;
  exceptions: SqliteExceptionStore;
  rule: BusinessDayRule;
}

/**
 * Reconciles one business day: each terminal's sequence ranges and redelivered batches, the
 * records refused at ingest, the counters of the drivers' shifts that started that day, open in-doubt records and the cards'
 * own offline counters (gaps, repeats, counters going backwards).
 */
export function reconcileDay(day: string, options: ReconciliationOptions): ReconciliationReport {
  assertBusinessDay(day);
  const { store } = options;
  const records = store.dayRecords(day);
  const rejected = store.rejectedRows().filter((row) => dayOfRejected(row.occurredAt, row.receivedAt, options.rule) === day);
  const dayStart = businessDayEnd(previousBusinessDay(day), options.rule).toISOString();
  const shifts = options.settlement.shiftsStartedBetween(dayStart, businessDayEnd(day, options.rule).toISOString());
  const findings: Finding[] = [];

  // The terminal's own numbering gives the sequence range expected for the day.
  const ranges = new Map<string, { from: number; to: number }>();
  const widen = (terminalId: string, from: number, to: number) => {
    const range = ranges.get(terminalId);
    ranges.set(terminalId, range ? { from: Math.min(range.from, from), to: Math.max(range.to, to) } : { from, to });
  };
  for (const record of records) widen(record.terminalId, record.sequence, record.sequence);
  for (const row of rejected) if (row.sequence !== null) widen(row.terminalId, row.sequence, row.sequence);
  for (const shift of shifts) if (shift.firstSequence !== null && shift.lastSequence !== null) widen(shift.terminalId, shift.firstSequence, shift.lastSequence);

  for (const [terminalId, range] of [...ranges.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const present = store.presentSequences(terminalId, range.from, range.to);
    const gaps: { from: number; to: number }[] = [];
    for (let sequence = range.from; sequence <= range.to; sequence += 1) {
      if (present.has(sequence)) continue;
      const last = gaps.at(-1);
      if (last && last.to === sequence - 1) last.to = sequence;
      else gaps.push({ from: sequence, to: sequence });
    }
    for (const gap of gaps) {
      findings.push({ kind: 'sequence-gap', severity: 'error', terminalId, sequences: gap, details: { count: gap.to - gap.from + 1 } });
    }
  }

  // A redelivery is an event of the link, so it is listed on the business day it arrived.
  for (const receipt of store.redeliveredBatches(day)) {
    findings.push({
      kind: 'redelivered-batch',
      severity: 'info',
      terminalId: receipt.terminalId,
      details: { batchId: receipt.batchId, duplicates: receipt.duplicates, stored: receipt.stored },
    });
  }

  for (const row of rejected) {
    findings.push({
      kind: 'rejected-record',
      severity: 'error',
      terminalId: row.terminalId,
      ...(row.sequence === null ? {} : { sequences: { from: row.sequence, to: row.sequence } }),
      details: { rejectedId: row.id, category: categoryOfReason(row.reason), reason: row.reason },
    });
  }

  findings.push(...checkShifts(shifts, findings.filter((finding) => finding.kind === 'sequence-gap'), store));

  for (const record of records) {
    if (record.kind !== 'in-doubt') continue;
    const state = options.exceptions.findInDoubt(record.terminalId, record.sequence);
    if (!state || state.resolvedBySequence !== null || state.decision !== null || state.writtenOff) continue;
    findings.push({
      kind: 'in-doubt-open',
      severity: 'warning',
      terminalId: record.terminalId,
      sequences: { from: record.sequence, to: record.sequence },
      asn: record.asn,
      details: { amountFen: record.amountFen, cardCounter: record.cardCounter },
    });
  }

  const cards = store.cardsOfDay(day);
  findings.push(...checkCardCounters(day, cards, store));

  return {
    businessDay: day,
    checked: { records: records.length, rejected: rejected.length, terminals: ranges.size, shifts: shifts.length, cards: cards.length },
    findings,
  };
}

function dayOfRejected(occurredAt: string | null, receivedAt: string, rule: BusinessDayRule): string {
  if (occurredAt !== null && !Number.isNaN(Date.parse(occurredAt))) return businessDayOf(occurredAt, rule);
  return businessDayOf(receivedAt, rule);
}

/**
 * Compares each shift's counters with the records in its sequence range. Accepted taps are
 * purchases and debited resolutions. A rejected purchase still counts as accepted, because the
 * terminal took the fare, but its amount cannot be trusted, so a shift holding one is compared
 * by counts only and the rejection is listed on its own. A shift whose range has missing records
 * is not compared: the missing records explain any difference, and the gap finding names the
 * shift instead.
 */
function checkShifts(shifts: readonly StoredShift[], gapFindings: readonly Finding[], store: SqliteReconciliationStore): Finding[] {
  const findings: Finding[] = [];
  const rejectedByKey = new Map<string, { kind: string | null; cardType: string | null }>();
  for (const row of store.rejectedRows()) if (row.sequence !== null) rejectedByKey.set(`${row.terminalId}#${row.sequence}`, row);

  for (const shift of shifts) {
    const { counters } = shift.record;
    const base = { terminalId: shift.terminalId, shiftId: shift.shiftId };
    if (shift.firstSequence === null || shift.lastSequence === null) {
      if (counters.accepted > 0 || counters.inDoubt > 0) {
        findings.push({ kind: 'shift-mismatch', severity: 'error', ...base, details: { field: 'accepted', terminal: counters.accepted, records: 0 } });
      }
      continue;
    }
    const range = { from: shift.firstSequence, to: shift.lastSequence };
    const overlapping = gapFindings.filter((gap) => gap.terminalId === shift.terminalId && gap.sequences && gap.sequences.to >= range.from && gap.sequences.from <= range.to);
    if (overlapping.length > 0) {
      for (const gap of overlapping) gap.details.shiftId = gap.details.shiftId === undefined ? shift.shiftId : `${gap.details.shiftId}, ${shift.shiftId}`;
      continue;
    }

    const tally = { accepted: 0, amountFen: 0, inDoubt: 0, rejected: 0, byCardType: new Map<string, number>() };
    const stored = store.recordsInRange(shift.terminalId, range.from, range.to);
    const storedSequences = new Set(stored.map((record) => record.sequence));
    for (const record of stored) {
      if (record.kind === 'in-doubt') tally.inDoubt += 1;
      if (record.kind === 'purchase' || (record.kind === 'resolution' && record.outcome === 'debited')) {
        tally.accepted += 1;
        tally.amountFen += record.amountFen;
        tally.byCardType.set(record.cardType, (tally.byCardType.get(record.cardType) ?? 0) + record.amountFen);
      }
    }
    for (let sequence = range.from; sequence <= range.to; sequence += 1) {
      if (storedSequences.has(sequence)) continue;
      const row = rejectedByKey.get(`${shift.terminalId}#${sequence}`);
      if (row?.kind === 'purchase') {
        tally.accepted += 1;
        tally.rejected += 1;
      }
    }

    const compare = (field: string, terminal: number, records: number) => {
      if (terminal !== records) findings.push({ kind: 'shift-mismatch', severity: 'error', ...base, sequences: range, details: { field, terminal, records } });
    };
    compare('accepted', counters.accepted, tally.accepted);
    compare('inDoubt', counters.inDoubt, tally.inDoubt);
    if (tally.rejected > 0) continue;
    compare('amountFen', counters.amountFen, tally.amountFen);
    for (const [cardType, entry] of Object.entries(counters.byCardType)) {
      if (entry) compare(`byCardType.${cardType}.amountFen`, entry.amountFen, tally.byCardType.get(cardType) ?? 0);
    }
  }
  return findings;
}

/**
 * Walks each card's cleared debits in time order. The offline counter grows by one per debit.
 * A step of 0 is the same debit cleared twice, and a negative step is a counter going backwards
 * (a cloned card or a wrong clock). A larger step means debits the centre has no record of, made
 * in another city or network or lost on the way. Only steps into this day count.
 */
function checkCardCounters(day: string, cards: readonly string[], store: SqliteReconciliationStore): Finding[] {
  const findings: Finding[] = [];
  const debits = store.cardDebits(cards, day);
  const byCard = new Map<string, typeof debits>();
  for (const debit of debits) {
    const list = byCard.get(debit.asn) ?? [];
    list.push(debit);
    byCard.set(debit.asn, list);
  }
  for (const [asn, list] of byCard) {
    for (let index = 1; index < list.length; index += 1) {
      const previous = list[index - 1] as (typeof list)[number];
      const current = list[index] as (typeof list)[number];
      if (current.businessDay !== day) continue;
      const step = current.cardCounter - previous.cardCounter;
      if (step === 1) continue;
      const kind = counterFindingKind(step);
      findings.push({
        kind,
        severity: kind === 'card-counter-gap' ? 'info' : 'error',
        terminalId: current.terminalId,
        sequences: { from: current.sequence, to: current.sequence },
        asn,
        details: {
          previousTerminal: previous.terminalId,
          previousSequence: previous.sequence,
          previousCounter: previous.cardCounter,
          counter: current.cardCounter,
          amountFen: current.amountFen,
        },
      });
    }
  }
  return findings;
}

function counterFindingKind(step: number): FindingKind {
  if (step === 0) return 'card-counter-repeat';
  if (step < 0) return 'card-counter-backwards';
  return 'card-counter-gap';
}

export type { DayRecordRow };
