import { z } from 'zod';
import type { TapOutcome } from '../../tap/tap-outcome.js';

/**
 * The link between a terminal and a simulated reader in another process, over a local socket:
 * one JSON object per line, bytes as upper-case hex. The reader process (the bench)
 * contains the virtual cards and the PSAM, so they outlive a terminal process that is killed.
 *
 * reader → terminal: `card` (a card entered the field), `removed`, `response` (to a `transmit`).
 * terminal → reader: `hello`, `transmit` (to the card of a session, or to the PSAM slot), and
 * `outcome` (what the door display showed for a session, so the bench knows what the rider saw).
 */
const hex = z.string().regex(/^(?:[0-9A-F]{2})*$/);

export const readerToTerminalSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('card'), session: z.number().int().min(1), atr: hex, protocol: z.enum(['iso14443-4', 'mifare-classic']), uid: hex.optional() }),
  z.object({ type: z.literal('removed'), session: z.number().int().min(1) }),
  z.object({ type: z.literal('response'), id: z.number().int().min(1), apdu: hex.optional(), error: z.enum(['removed', 'timeout', 'transport']).optional() }),
]);

export type ReaderToTerminal = z.infer<typeof readerToTerminalSchema>;

export type TerminalToReader =
  | { type: 'hello'; terminalId: string }
  | { type: 'transmit'; id: number; slot: 'card'; session: number; apdu: string }
  | { type: 'transmit'; id: number; slot: 'psam'; apdu: string }
  | { type: 'outcome'; session: number; outcome: TapOutcome };

/** Splits a byte stream into lines and hands each complete line on. */
export class LineSplitter {
  private buffer = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    this.buffer += chunk.toString();
    let newline = this.buffer.indexOf('\n');
    while (newline >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      if (line.length > 0) this.onLine(line);
      newline = this.buffer.indexOf('\n');
    }
  }
}
