import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CardIoError, type CardSession, ReaderIoError, SerialCardReader } from '@busfare/terminal';
import { type DeviceHealth, M1_LAYOUT, M1_PROCESS_FLAG } from '@busfare/shared-protocol';
import { type ApduCard, openPn532Emulator, type PtyPn532Emulator } from '@busfare/simulators';
import { afterEach, describe, expect, it } from 'vitest';
import { missingBinary, startPtyPair, waitFor, type PtyPair } from '../../terminal/src/gnss/pty-test-helpers.js';
import { makeCard, makeM1Card } from './cards.js';
import { createTapFixture } from './tap-fixture.js';

const socatMissing = missingBinary('socat');
if (socatMissing) console.warn(`skipping serial PN532 tests: ${socatMissing}`);

/** INS of DEBIT (PBOC e-purse purchase) inside an APDU. */
const INS_DEBIT = 0x54;
/** MIFARE TRANSFER, which stores the result of DECREMENT in the purse block. */
const MIFARE_TRANSFER = 0xb0;

describe.skipIf(Boolean(socatMissing))('serial PN532 reader over a socat pty, with the emulated module', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  async function setUp() {
    const dir = mkdtempSync(join(tmpdir(), 'busfare-pn532-'));
    chmodSync(dir, 0o755);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const ptys: PtyPair = await startPtyPair(dir, 'module', 'host');
    cleanups.push(() => ptys.stop());
    const module: PtyPn532Emulator = await openPn532Emulator(ptys.writerPath);
    cleanups.push(() => module.close());
    const reader = new SerialCardReader({ path: ptys.readerPath, pollIntervalMs: 20, presenceCheckIdleMs: 50, responseTimeoutMs: 300, reconnectMs: 50 });
    const sessions: CardSession[] = [];
    const removed: CardSession[] = [];
    const health: DeviceHealth[] = [];
    reader.on('card', (session) => sessions.push(session));
    reader.on('removed', (session) => removed.push(session));
    reader.on('health', (value) => health.push(value));
    cleanups.push(() => reader.stop());
    await reader.start();
    expect(reader.isReady).toBe(true);
    const fixture = await createTapFixture();

    /** Puts the card on the emulated module, runs the tap on the session the serial reader reports, then takes the card away. */
    async function tap(card: ApduCard) {
      const seen = sessions.length;
      module.emulator.present(card);
      await waitFor(() => sessions.length > seen, 'the card on the serial reader', 3_000);
      const session = sessions.at(-1)!;
      const outcome = await fixture.processor.process(session);
      module.emulator.remove();
      await waitFor(() => removed.includes(session), 'the card removal on the serial reader', 3_000);
      fixture.clock.advance(60_000);
      return { outcome, session };
    }
    return { module, reader, fixture, tap, sessions, removed, health };
  }

  it('taps a CPU card and an M1 card', async () => {
    const { tap, fixture } = await setUp();
    const cpu = makeCard();
    const first = await tap(cpu);
    expect(first.session.protocol).toBe('iso14443-4');
    expect(first.session.atr[0]).toBe(0x3b);
    expect(first.outcome.status).toBe('accepted');
    expect(first.outcome.amountFen).toBe(200);
    expect(cpu.balanceFen).toBe(800);

    const m1 = makeM1Card();
    const second = await tap(m1);
    expect(second.session.protocol).toBe('mifare-classic');
    expect(second.session.uid).toEqual(m1.uid);
    expect(second.outcome.status).toBe('accepted');
    expect(second.outcome.application).toBe('m1');
    expect(m1.balanceFen).toBe(800);
    expect(m1.purseInfo.processFlag).toBe(M1_PROCESS_FLAG.idle);
    expect(fixture.store.listOpenInDoubt()).toHaveLength(0);
  });

  it('recovers a CPU debit torn after DEBIT', async () => {
    const { tap, module, fixture } = await setUp();
    const card = makeCard();
    module.emulator.tearAt((command) => command[1] === INS_DEBIT, 'after-card');
    const torn = await tap(card);
    expect(torn.outcome.status).toBe('in-doubt');
    expect(torn.outcome.promptId).toBe('tap-again');
    expect(card.balanceFen).toBe(800);
    expect(fixture.store.listOpenInDoubt()).toHaveLength(1);

    const again = await tap(card);
    expect(again.outcome.status).toBe('recovered');
    expect(card.balanceFen).toBe(800);
    expect(fixture.store.listOpenInDoubt()).toHaveLength(0);
  });

  it('recovers an M1 debit torn after TRANSFER', async () => {
    const { tap, module } = await setUp();
    const card = makeM1Card();
    module.emulator.tearAt((command) => command[0] === MIFARE_TRANSFER && command[1] === M1_LAYOUT.primaryValueBlock, 'after-card');
    const torn = await tap(card);
    expect(torn.outcome.status).toBe('in-doubt');
    expect(card.balanceFen).toBe(800);
    expect(card.purseInfo.processFlag).toBe(M1_PROCESS_FLAG.debitInProgress);

    const again = await tap(card);
    expect(again.outcome.status).toBe('recovered');
    expect(card.balanceFen).toBe(800);
    expect(card.debits).toHaveLength(1);
  });

  it('ends the session of a swapped CPU card', async () => {
    const { module, sessions, removed } = await setUp();
    const first = makeCard();
    const second = makeCard();
    expect(second.uid).not.toEqual(first.uid);
    module.emulator.present(first);
    await waitFor(() => sessions.length === 1, 'the first card on the serial reader', 3_000);

    // The second card replaces the first between two polls, with no empty field in between.
    module.emulator.present(second);
    await expect(sessions[0]!.transmit(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, 0x00))).rejects.toBeInstanceOf(CardIoError);
    await waitFor(() => sessions.length === 2, 'a new session for the second card', 3_000);
    expect(removed).toContain(sessions[0]);
    expect(sessions[1]!.uid).toEqual(second.uid);
  });

  it('ends the session of a swapped M1 card', async () => {
    const { module, sessions, removed } = await setUp();
    const first = makeM1Card();
    const second = makeM1Card();
    module.emulator.present(first);
    await waitFor(() => sessions.length === 1, 'the first card on the serial reader', 3_000);

    module.emulator.present(second);
    await waitFor(() => sessions.length === 2, 'a new session for the second card', 3_000);
    expect(removed).toContain(sessions[0]);
    expect(sessions[1]!.uid).toEqual(second.uid);
    await expect(sessions[0]!.transmit(Uint8Array.of(0xff, 0xca, 0x00, 0x00, 0x00))).rejects.toBeInstanceOf(CardIoError);
  });

  it('maps a pulled card and a mute module', async () => {
    const { module, reader, sessions, removed, health } = await setUp();
    const card = makeCard();
    module.emulator.present(card);
    await waitFor(() => sessions.length === 1, 'the card on the serial reader', 3_000);
    const session = sessions[0]!;
    module.emulator.tearAt(() => true, 'before-card');
    await expect(session.transmit(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, 0x00))).rejects.toBeInstanceOf(CardIoError);
    await waitFor(() => removed.includes(session), 'the removal after the tear', 3_000);

    module.emulator.present(card);
    await waitFor(() => sessions.length === 2, 'the card back on the serial reader', 3_000);
    module.emulator.setMute(true);
    const failed = sessions[1]!.transmit(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, 0x00));
    await expect(failed).rejects.toBeInstanceOf(ReaderIoError);
    expect(removed).toContain(sessions[1]);
    expect(health.at(-1)).toBe('down');
    await expect(sessions[1]!.transmit(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, 0x00))).rejects.toBeInstanceOf(CardIoError);

    module.emulator.setMute(false);
    await waitFor(() => reader.isReady && health.at(-1) === 'ok', 'the module to answer again', 3_000);
    await waitFor(() => sessions.length === 3, 'the card listed again after the module came back', 3_000);
  });
});
