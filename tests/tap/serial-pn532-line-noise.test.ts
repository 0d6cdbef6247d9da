import { EventEmitter } from 'node:events';
import { ACK_FRAME, type CardSession, Pn532FrameDecoder, SerialCardReader, type SerialCardPortLike } from '@busfare/terminal';
import { M1_LAYOUT, M1_PROCESS_FLAG } from '@busfare/shared-protocol';
import { Pn532Emulator } from '@busfare/simulators';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../terminal/src/gnss/pty-test-helpers.js';
import { makeM1Card } from './cards.js';
import { createTapFixture } from './tap-fixture.js';

/** MIFARE TRANSFER, which stores the result of DECREMENT in the purse block. */
const MIFARE_TRANSFER = 0xb0;
/** Bytes with a start code and a length of zero, as a glitch on the line may produce. */
const NOISE = Uint8Array.of(0x00, 0xff, 0x00, 0x00);
const WORK_MS = 50;

/**
 * Creates the emulated module behind an in-memory serial port, slowed down for one command: it sends
 * the ACK, then line noise, and the response only WORK_MS later. While it works, a NACK makes it
 * resend the last response it sent, which belongs to the previous command.
 */
function slowModuleWithNoise(isSlowCommand: (data: Uint8Array) => boolean) {
  let openPort: MemoryPort | undefined;
  let lastResponse: Uint8Array | undefined;
  let working = false;
  let heldFrames: Uint8Array[] | undefined;

  const deliver = (bytes: Uint8Array) => {
    const port = openPort;
    if (port?.isOpen) setImmediate(() => port.emit('data', Buffer.from(bytes)));
  };
  const emulator = new Pn532Emulator((bytes) => {
    if (heldFrames) {
      heldFrames.push(bytes.slice());
      return;
    }
    if (bytes.length > ACK_FRAME.length) lastResponse = bytes.slice();
    deliver(bytes);
  });

  class MemoryPort extends EventEmitter {
    isOpen = false;

    open(callback: (error: Error | null) => void): void {
      this.isOpen = true;
      openPort = this;
      setImmediate(() => callback(null));
    }

    close(callback?: (error: Error | null) => void): void {
      this.isOpen = false;
      callback?.(null);
    }

    write(data: Uint8Array): boolean {
      const bytes = Uint8Array.from(data);
      const [frame] = new Pn532FrameDecoder().push(bytes);
      if (working && frame?.kind === 'nack') {
        if (lastResponse) deliver(lastResponse);
        return true;
      }
      if (frame?.kind === 'info' && isSlowCommand(frame.data)) {
        heldFrames = [];
        emulator.receive(bytes);
        const [ack, response] = heldFrames;
        heldFrames = undefined;
        working = true;
        deliver(ack!);
        deliver(NOISE);
        setTimeout(() => {
          working = false;
          lastResponse = response!;
          deliver(response!);
        }, WORK_MS);
        return true;
      }
      setImmediate(() => emulator.receive(bytes));
      return true;
    }
  }
  return { emulator, createPort: () => new MemoryPort() as unknown as SerialCardPortLike };
}

describe('serial PN532 reader with line noise during a command', () => {
  const readers: SerialCardReader[] = [];
  afterEach(async () => {
    for (const reader of readers.splice(0)) await reader.stop();
  });

  it('keeps an M1 debit torn at TRANSFER in doubt', async () => {
    // InDataExchange (40), Tg 1, then TRANSFER of the purse block.
    const module = slowModuleWithNoise((data) => data[0] === 0x40 && data[2] === MIFARE_TRANSFER && data[3] === M1_LAYOUT.primaryValueBlock);
    const reader = new SerialCardReader({ path: 'memory', createPort: module.createPort, pollIntervalMs: 20, presenceCheckIdleMs: 500, responseTimeoutMs: 300, reconnectMs: 50 });
    readers.push(reader);
    const sessions: CardSession[] = [];
    reader.on('card', (session) => sessions.push(session));
    await reader.start();
    const fixture = await createTapFixture();

    const card = makeM1Card();
    module.emulator.tearAt((command) => command[0] === MIFARE_TRANSFER && command[1] === M1_LAYOUT.primaryValueBlock, 'before-card');
    module.emulator.present(card);
    await waitFor(() => sessions.length === 1, 'the card on the serial reader', 3_000);
    const outcome = await fixture.processor.process(sessions[0]!);

    // The card never stored the decrement, so the tap must not count the fare as paid.
    expect(card.balanceFen).toBe(1000);
    expect(card.purseInfo.processFlag).toBe(M1_PROCESS_FLAG.debitInProgress);
    expect(outcome.status).toBe('in-doubt');
    expect(fixture.store.listOpenInDoubt()).toHaveLength(1);
  });
});
