import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../gnss/pty-test-helpers.js';
import { PN532_COMMAND } from './pn532-commands.js';
import { ACK_FRAME, Pn532FrameDecoder, TFI_PN532_TO_HOST, encodeFrame } from './pn532-frame.js';
import { SerialCardReader, type SerialCardPortLike } from './serial-card-reader.js';

interface LogLine {
  level: number;
  msg: string;
  failedAttempts?: number;
}

const WARN = 40;
const DEBUG = 20;

function captureLogger() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/**
 * Creates a module behind a port that fails to open while `plugged` is false. Once open, it replies
 * to each command frame with an ACK and an empty response, and to InListPassiveTarget with "no target".
 */
function moduleBehindPort() {
  const state = { plugged: false, opens: 0 };
  class ScriptedPort extends EventEmitter {
    isOpen = false;
    private readonly decoder = new Pn532FrameDecoder();

    open(callback: (error: Error | null) => void): void {
      state.opens += 1;
      if (!state.plugged) {
        setImmediate(() => callback(new Error('ENOENT: no such file or directory')));
        return;
      }
      this.isOpen = true;
      setImmediate(() => callback(null));
    }

    close(callback?: (error: Error | null) => void): void {
      this.isOpen = false;
      callback?.(null);
    }

    write(data: Uint8Array): boolean {
      for (const frame of this.decoder.push(data)) {
        if (frame.kind !== 'info') continue;
        const code = frame.data[0]!;
        const answer = code === PN532_COMMAND.InListPassiveTarget ? [code + 1, 0x00] : [code + 1];
        const reply = Buffer.from([...ACK_FRAME, ...encodeFrame(TFI_PN532_TO_HOST, Uint8Array.from(answer))]);
        setImmediate(() => this.emit('data', reply));
      }
      return true;
    }
  }
  return { state, createPort: () => new ScriptedPort() as unknown as SerialCardPortLike };
}

describe('SerialCardReader reconnection', () => {
  const readers: SerialCardReader[] = [];
  afterEach(async () => {
    for (const reader of readers.splice(0)) await reader.stop();
  });

  it('logs a module outage at warn once', async () => {
    const { logger, lines } = captureLogger();
    const module = moduleBehindPort();
    const reader = new SerialCardReader({ path: '/dev/ttyTEST', logger, createPort: module.createPort, reconnectMs: 5, pollIntervalMs: 5 });
    readers.push(reader);
    await reader.start();
    await waitFor(() => module.state.opens >= 6, 'six attempts to open the port', 3_000);

    const notAnswering = lines.filter((line) => line.msg === 'serial reader module not answering, retrying');
    expect(notAnswering).toHaveLength(1);
    expect(notAnswering[0]!.level).toBe(WARN);
    const retries = lines.filter((line) => line.msg === 'serial reader module still not answering');
    expect(retries.length).toBeGreaterThanOrEqual(4);
    expect(retries.every((line) => line.level === DEBUG)).toBe(true);

    module.state.plugged = true;
    await waitFor(() => reader.isReady, 'the module to answer', 3_000);
    const ready = lines.find((line) => line.msg === 'serial reader module ready');
    expect(ready?.failedAttempts).toBeGreaterThanOrEqual(5);
  });
});
