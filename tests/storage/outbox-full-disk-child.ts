// Child process of outbox-full-disk.test.ts, run inside a private mount namespace with a small
// tmpfs mounted on argv[2]. It records taps into the terminal's outbox on that tmpfs until the
// file system is full, then frees the space and taps again. It fills the disk once more and
// restarts the outbox while the disk is full, frees the space again and prints one JSON report
// on standard output.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type LoggedLine, collectingLogger, fillDisk, freeBytes } from './child-support.js';
import { MemoryDriverScreen, StorageGuardedStore, openOutbox, type TapOutcome, type TransactionStore } from '@busfare/terminal';
import type { VirtualTUnionCard } from '@busfare/simulators';
import { makeCard } from '../tap/cards.js';
import { createTapFixture } from '../tap/tap-fixture.js';

/** Free bytes the filler file leaves, so the outbox runs out after some taps. */
const LEFT_FREE_BYTES = 96 * 1024;
/** Taps tried before the file system counts as never filling up. */
const MAX_TAPS = 1_500;
/** Taps tried after the first refusal, to show that refusals go on while the disk stays full. */
const TAPS_WHILE_FULL = 3;
const TAPS_AFTER_FREEING = 5;


export interface TapSummary {
  status: TapOutcome['status'];
  promptId: string;
  reason?: string;
  asn: string;
  sequence?: number;
}

export interface StoredRow {
  sequence: number;
  state: string;
  kind: string;
  asn: string;
  inDoubtOpen: boolean;
  cardCounter?: number;
  tac?: string;
  amountFen?: number;
  resolvesSequence?: number;
  outcome?: string;
}

export interface FileCheck {
  integrity: string[];
  lastSequence: number;
  rows: StoredRow[];
}

export interface OutboxFullDiskReport {
  freeBeforeFillBytes: number;
  /** Taps until the first one the outbox refused, that one included. */
  untilFull: TapSummary[];
  alertsWhenFull: string[];
  /** Taps after the first refusal while the disk stays full. */
  whileFull: TapSummary[];
  /** Taps after the filler file was deleted, with the same store still open. */
  afterFreeing: TapSummary[];
  alertsAfterFreeing: string[];
  /** Taps until the refilled disk refused one again, that one included. */
  untilFullAgain: TapSummary[];
  /** The outbox closed and opened again while the disk was still full, as a restart would. */
  reopenedWhileFull: { error?: string; check?: FileCheck; alerts?: string[] };
  /** Taps on the restarted terminal while the disk stays full. */
  afterRestartWhileFull: TapSummary[];
  /** Taps after the filler file was deleted once more. */
  afterFreeingAgain: TapSummary[];
  /** Taps of the cards whose debits were left in doubt, presented once more so their proof settles them. */
  settlements: TapSummary[];
  /** Log lines at warn level and above, as { level, msg, err }. */
  logs: LoggedLine[];
  final: FileCheck;
  cards: { asn: string; spentFen: number }[];
}

const directory = process.argv[2];
if (!directory) throw new Error('usage: outbox-full-disk-child DIRECTORY [housekeeping]');
/**
 * With `housekeeping`, the WAL is checkpointed between taps as the terminal does when idle, so
 * the disk fills when a checkpoint cannot extend the database file. Without it the disk fills
 * when the WAL grows past its reserved size in the middle of a tap.
 */
const housekeeping = process.argv[3] === 'housekeeping';
const path = join(directory, 'T1-transactions.db');
const fillerPath = join(directory, 'filler');

const { logger, logs } = collectingLogger();


/** Opens the outbox as the terminal does at start-up: checked, salvaged if damaged, behind the storage guard. */
function openGuarded(screen: MemoryDriverScreen): StorageGuardedStore {
  const { store } = openOutbox(path, { logger, screen });
  // Thresholds of 0 leave every refusal to SQLite's own "disk full" errors, which this test is about.
  const guarded = new StorageGuardedStore(store, { directory: directory!, screen, logger, warnFreeBytes: 0, refuseFreeBytes: 0, checkIntervalMs: 0 });
  guarded.check();
  return guarded;
}

/** Reads the closed outbox file through a connection of its own. */
function checkFile(): FileCheck {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const integrity = (db.pragma('integrity_check') as Array<Record<string, string>>).map((row) => Object.values(row)[0] ?? '');
    const lastSequence = (db.prepare("SELECT value FROM meta WHERE key = 'last_sequence'").get() as { value: number }).value;
    const rows = (db.prepare('SELECT sequence, state, kind, asn, in_doubt_open, record_json FROM records ORDER BY sequence').all() as {
      sequence: number;
      state: string;
      kind: string;
      asn: string;
      in_doubt_open: number;
      record_json: string;
    }[]).map((row) => {
      const record = JSON.parse(row.record_json) as { debit?: { cardCounter?: number; tac?: string; amountFen?: number }; resolvesSequence?: number; outcome?: string };
      return {
        sequence: row.sequence,
        state: row.state,
        kind: row.kind,
        asn: row.asn,
        inDoubtOpen: row.in_doubt_open === 1,
        cardCounter: record.debit?.cardCounter,
        tac: record.debit?.tac,
        amountFen: record.debit?.amountFen,
        resolvesSequence: record.resolvesSequence,
        outcome: record.outcome,
      };
    });
    return { integrity, lastSequence, rows };
  } finally {
    db.close();
  }
}

/** Summarizes the outcome of a tap of the card with `asn`, which a refused tap's outcome does not carry. */
function summarize(outcome: TapOutcome, asn: string): TapSummary {
  return { status: outcome.status, promptId: outcome.promptId, reason: outcome.reason, asn, sequence: outcome.sequence };
}

async function main(): Promise<OutboxFullDiskReport> {
  const cards: VirtualTUnionCard[] = [];
  let screen = new MemoryDriverScreen();
  let store = openGuarded(screen);
  // The tap path keeps one PSAM and one card reader across the restart, as the hardware does, and
  // reaches whichever outbox is open through this forwarder.
  const current = new Proxy({} as TransactionStore, {
    get(_target, property) {
      const value = Reflect.get(store, property) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(store) : value;
    },
  });
  const fixture = await createTapFixture({ store: current });

  /** Taps a new card, then runs the housekeeping that the terminal runs between taps. */
  async function tapNewCard(): Promise<TapSummary> {
    const card = makeCard();
    cards.push(card);
    const outcome = await fixture.tap(card);
    if (!housekeeping) return summarize(outcome, card.asn);
    try {
      store.maintainWhileIdle();
    } catch (error) {
      logger.warn({ err: error }, 'outbox housekeeping between taps failed');
    }
    return summarize(outcome, card.asn);
  }

  async function tapUntilRefused(): Promise<TapSummary[]> {
    const taps: TapSummary[] = [];
    for (let tap = 0; tap < MAX_TAPS; tap += 1) {
      const summary = await tapNewCard();
      taps.push(summary);
      if (summary.status !== 'accepted') break;
    }
    return taps;
  }

  async function tapNewCards(count: number): Promise<TapSummary[]> {
    const taps: TapSummary[] = [];
    for (let tap = 0; tap < count; tap += 1) taps.push(await tapNewCard());
    return taps;
  }

  const fill = () => fillDisk(fillerPath, directory!, LEFT_FREE_BYTES);

  const freeBeforeFillBytes = freeBytes(directory!);
  fill();
  const untilFull = await tapUntilRefused();
  const alertsWhenFull = [...screen.alerts.keys()];
  const whileFull = await tapNewCards(TAPS_WHILE_FULL);

  rmSync(fillerPath);
  const afterFreeing = await tapNewCards(TAPS_AFTER_FREEING);
  const alertsAfterFreeing = [...screen.alerts.keys()];

  fill();
  const untilFullAgain = await tapUntilRefused();
  store.close();
  const reopenedWhileFull: OutboxFullDiskReport['reopenedWhileFull'] = {};
  try {
    reopenedWhileFull.check = checkFile();
    screen = new MemoryDriverScreen();
    store = openGuarded(screen);
    store.recoverPending();
    reopenedWhileFull.alerts = [...screen.alerts.keys()];
  } catch (error) {
    reopenedWhileFull.error = (error as Error).message;
  }
  const afterRestartWhileFull = reopenedWhileFull.error === undefined ? await tapNewCards(TAPS_WHILE_FULL) : [];

  rmSync(fillerPath);
  if (reopenedWhileFull.error !== undefined) {
    store = openGuarded(screen);
    store.recoverPending();
  }
  const afterFreeingAgain = await tapNewCards(TAPS_AFTER_FREEING);

  const settlements: TapSummary[] = [];
  const openAsns = new Set(store.listOpenInDoubt().map((open) => open.record.card.asn));
  for (const card of cards.filter((candidate) => openAsns.has(candidate.asn))) settlements.push(summarize(await fixture.tap(card), card.asn));
  store.close();

  return {
    freeBeforeFillBytes,
    untilFull,
    alertsWhenFull,
    whileFull,
    afterFreeing,
    alertsAfterFreeing,
    untilFullAgain,
    reopenedWhileFull,
    afterRestartWhileFull,
    afterFreeingAgain,
    settlements,
    logs,
    final: checkFile(),
    cards: cards.map((card) => ({ asn: card.asn, spentFen: 1000 - card.balanceFen })),
  };
}

const report = await main();
process.stdout.write(`${JSON.stringify(report)}\n`);
