import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultFareTable } from '@busfare/backoffice';
import {
  ALL_BENCH_ISSUERS,
  BENCH_LOCAL_CITY_CODE,
  type InProcessCardSession,
  SocketReaderHost,
  SoftwarePsam,
  type VirtualTUnionCard,
  createCardPopulation,
} from '@busfare/simulators';
import { ApduSecureAccessModule, type CardSession, SocketReaderLink, SqliteTransactionStore, type TapOutcome, TerminalRuntime, systemClock } from '@busfare/terminal';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const logger = pino({ level: 'silent' });
const fareTable = defaultFareTable([BENCH_LOCAL_CITY_CODE]);

let directory: string;
let host: SocketReaderHost;
let killAtDebit = false;
const cleanups: (() => Promise<void> | void)[] = [];

function payingCards(count: number): VirtualTUnionCard[] {
  return createCardPopulation({ count: 60, seed: 11 })
    .filter((entry) => !entry.profile.expired && !entry.profile.lowBalance && entry.card.asn.startsWith(BENCH_LOCAL_CITY_CODE))
    .slice(0, count)
    .map((entry) => entry.card);
}

/** Starts a terminal's runtime in this process, attached to the host over the socket. */
async function startTerminal(): Promise<{ link: SocketReaderLink; runtime: TerminalRuntime; store: SqliteTransactionStore; stop(): Promise<void> }> {
  const store = SqliteTransactionStore.open(join(directory, 'T1-transactions.db'));
  const link = new SocketReaderLink({ path: join(directory, 'reader.sock'), terminalId: 'T1', logger, apduTimeoutMs: 1_000 });
  const runtime = new TerminalRuntime({
    terminalId: 'T1',
    vehicleId: 'V1',
    reader: link,
    sam: new ApduSecureAccessModule(link.psam),
    store,
    fareTables: { activeFareTable: () => fareTable },
    feedback: { show: () => undefined },
    clock: systemClock,
    logger,
    service: { route: '1', direction: 0 },
  });
  runtime.on('tap', (outcome: TapOutcome, session: CardSession) => link.sendOutcome(session.id, outcome));
  await link.start();
  await runtime.start();
  return {
    link,
    runtime,
    store,
    async stop() {
      await runtime.stop();
      await link.stop();
      store.close();
    },
  };
}

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-socket-reader-'));
  killAtDebit = false;
  host = new SocketReaderHost({
    path: join(directory, 'reader.sock'),
    psam: new SoftwarePsam({ terminalNumber: '000058100091', issuers: ALL_BENCH_ISSUERS }),
    logger,
    afterCardCommand: (command: Uint8Array, _session: InProcessCardSession) => killAtDebit && command[0] === 0x80 && command[1] === 0x54,
  });
  await host.listen();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await host.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('socket-attached reader', () => {
  it('takes a fare over the socket', async () => {
    const terminal = await startTerminal();
    cleanups.push(() => terminal.stop());
    const [card] = payingCards(1);
    const balance = card!.balanceFen;

    const tap = await host.tap(card!);
    expect(tap.outcome?.status).toBe('accepted');
    expect(tap.debitSent).toBe(true);
    expect(card!.balanceFen).toBe(balance - tap.outcome!.amountFen!);
    expect(terminal.store.get(tap.outcome!.sequence!)?.record.kind).toBe('purchase');
  });

  it('keeps the card debit when the terminal dies after DEBIT', async () => {
    const first = await startTerminal();
    const [card] = payingCards(1);
    const balance = card!.balanceFen;

    killAtDebit = true;
    const pending = host.tap(card!, { timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The terminal "dies": its link drops while DEBIT's response is withheld.
    first.link.stop();
    const tap = await pending;
    expect(tap.outcome).toBeUndefined();
    expect(tap.debitSent).toBe(true);
    expect(card!.balanceFen).toBeLessThan(balance);
    await first.runtime.stop().catch(() => undefined);
    first.store.close();

    killAtDebit = false;
    const second = await startTerminal();
    cleanups.push(() => second.stop());
    const open = second.store.listOpenInDoubt();
    expect(open).toHaveLength(1);
    expect(open[0]!.record.card.asn).toBe(card!.asn);

    const retap = await host.tap(card!);
    expect(retap.outcome?.status).toBe('recovered');
    expect(second.store.listOpenInDoubt()).toHaveLength(0);
    expect(card!.ledger).toHaveLength(1);
  });

  it('reports no outcome when no terminal is attached', async () => {
    const [card] = payingCards(1);
    const tap = await host.tap(card!, { timeoutMs: 200 });
    expect(tap.outcome).toBeUndefined();
    expect(tap.debitSent).toBe(false);
  });

  it('ignores invalid lines from the reader', async () => {
    const terminal = await startTerminal();
    cleanups.push(() => terminal.stop());
    // A garbage line must not break the link: the next tap still works.
    (host as unknown as { terminal?: { write(text: string): void } }).terminal?.write('not json\n{"type":"card"}\n');
    const [card] = payingCards(1);
    expect((await host.tap(card!)).outcome?.status).toBe('accepted');
  });
});
