import { randomUUID } from 'node:crypto';
import { TERMINAL_COMMAND_SCHEMA, type TerminalCommand, type TransactionAck } from '@busfare/shared-protocol';
import type { Logger } from '../logger.js';

export interface GapResendOptions {
  /** Publishes a command to one terminal; resolves false when it could not be sent. */
  send(terminalId: string, command: TerminalCommand): Promise<boolean>;
  logger: Logger;
  /** Milliseconds before the same missing range of a terminal is requested again. */
  repeatAfterMs?: number;
  /** Missing ranges requested per acknowledgement. */
  maxRangesPerRequest?: number;
  monotonicMs?: () => number;
  now?: () => Date;
}

/** A range requested from a terminal, and when. */
interface RequestedRange {
  from: number;
  to: number;
  atMs: number;
}

/**
 * Asks a terminal to re-send the sequences that an acknowledgement reports missing: a `resend`
 * command on the terminal's commands topic per missing range. A range that lies within one
 * requested less than `repeatAfterMs` ago is not requested, because the terminal's own ack
 * timeout re-sends as well, and a burst of batches behind one gap would otherwise ask once per
 * batch. While the terminal fills a gap, each acknowledgement reports less of it missing, and
 * every such part would otherwise cost the terminal another re-send of up to one window.
 */
export class GapResendRequester {
  /** Requests younger than repeatAfterMs, per terminal with a gap. */
  private readonly recentRequests = new Map<string, RequestedRange[]>();
  private readonly settings;
  requestsSent = 0;

  constructor(private readonly options: GapResendOptions) {
    this.settings = {
      repeatAfterMs: options.repeatAfterMs ?? 5_000,
      maxRangesPerRequest: options.maxRangesPerRequest ?? 4,
      monotonicMs: options.monotonicMs ?? (() => performance.now()),
      now: options.now ?? (() => new Date()),
    };
  }

  /** Checks one acknowledgement and sends the requests it calls for; returns how many were sent. */
  onAck(ack: TransactionAck): number {
    const missing = ack.missing ?? [];
    if (missing.length === 0) {
      this.recentRequests.delete(ack.terminalId);
      return 0;
    }
    const nowMs = this.settings.monotonicMs();
    // Only requests younger than repeatAfterMs are kept, so the list of a terminal stays short.
    const recent = (this.recentRequests.get(ack.terminalId) ?? []).filter((request) => nowMs - request.atMs < this.settings.repeatAfterMs);
    this.recentRequests.set(ack.terminalId, recent);
    let sent = 0;
    for (const range of missing.slice(0, this.settings.maxRangesPerRequest)) {
      if (recent.some((request) => request.from <= range.from && range.to <= request.to)) continue;
      recent.push({ from: range.from, to: range.to, atMs: nowMs });
      const command: TerminalCommand = {
        schema: TERMINAL_COMMAND_SCHEMA,
        id: randomUUID(),
        issuedAt: this.settings.now().toISOString(),
        command: 'resend',
        fromSequence: range.from,
        toSequence: range.to,
      };
      this.options.logger.warn({ terminalId: ack.terminalId, from: range.from, to: range.to, ackedThrough: ack.ackedThrough }, 'sequence gap detected, so asking the terminal to re-send it');
      this.options.send(ack.terminalId, command).then(
        (delivered) => {
          if (!delivered) this.options.logger.warn({ terminalId: ack.terminalId, commandId: command.id }, 'resend request not sent: ingest is not connected');
        },
        (error: unknown) => this.options.logger.error({ err: error, terminalId: ack.terminalId, commandId: command.id }, 'failed to publish a resend request'),
      );
      this.requestsSent += 1;
      sent += 1;
    }
    return sent;
  }
}
