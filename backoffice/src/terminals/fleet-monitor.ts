import type { TerminalStatus } from '@busfare/shared-protocol';
import type { Logger } from '../logger.js';

/** Link and clock state of one terminal, as the back office sees it. */
export interface TerminalHealth {
  terminalId: string;
  /** `online` or `offline` from the terminal's last status (an `offline` one is usually its last will). */
  state: TerminalStatus['state'] | 'unknown';
  /** Local time of the last message of any kind from this terminal. */
  lastSeenAt: string;
  /** Local time of the last `online` status (the heartbeat). */
  lastHeartbeatAt?: string;
  /** Online by its status, but no message for longer than the silence limit. */
  silent: boolean;
  /** Terminal clock minus back-office clock at the last reading, in ms (transit delay included). */
  clockDriftMs?: number;
  clockDriftFlagged: boolean;
  backlog?: number;
  lastSequence?: number;
}

export interface FleetMonitorOptions {
  logger: Logger;
  /** Drift beyond which a terminal's clock is flagged, in ms. */
  maxClockDriftMs?: number;
  /** Milliseconds without any message after which an online terminal counts as silent. */
  silenceMs?: number;
  now?: () => Date;
}

interface Entry {
  health: TerminalHealth;
  lastSeenMs: number;
}

/**
 * Tracks each terminal's heartbeats (retained `online` statuses), its last-will `offline` status,
 * its silence and its clock drift. Drift is the live heartbeat's `at` against the receive time, so
 * it includes the broker transit time. Retained statuses replayed on subscription are older than
 * they look and are not used for drift.
 * NOTE: a heartbeat queued in the broker for ingest's persistent session while ingest was down
 * arrives late without the retain flag and reads as a clock running behind.
 */
export class FleetMonitor {
  private readonly terminals = new Map<string, Entry>();
  private readonly settings;

  constructor(private readonly options: FleetMonitorOptions) {
    this.settings = {
      maxClockDriftMs: options.maxClockDriftMs ?? 60_000,
      silenceMs: options.silenceMs ?? 120_000,
      now: options.now ?? (() => new Date()),
    };
  }

  /** `retained` marks a status the broker replayed from its retained store on subscription. */
  observeStatus(status: TerminalStatus, receivedAt: Date, retained = false): void {
    const entry = this.touch(status.terminalId, receivedAt);
    const previous = entry.health.state;
    entry.health.state = status.state;
    if (status.backlog !== undefined) entry.health.backlog = status.backlog;
    if (status.lastSequence !== undefined) entry.health.lastSequence = status.lastSequence;
    if (status.state === 'online' && !retained) {
      entry.health.lastHeartbeatAt = receivedAt.toISOString();
      this.observeClock(entry, status.at, receivedAt);
    }
    if (previous !== status.state) this.options.logger.info({ terminalId: status.terminalId, state: status.state, previous }, 'terminal state changed');
  }

  /** Counts a transaction batch as contact. Its sentAt is not a clock reading, because a batch can wait in the broker's queue. */
  observeBatch(terminalId: string, receivedAt: Date): void {
    this.touch(terminalId, receivedAt);
  }

  /** Returns every known terminal, ordered by id, with `silent` computed for the current time. */
  snapshot(): TerminalHealth[] {
    const nowMs = this.settings.now().getTime();
    return [...this.terminals.values()]
      .map((entry) => ({ ...entry.health, silent: entry.health.state === 'online' && nowMs - entry.lastSeenMs > this.settings.silenceMs }))
      .sort((a, b) => a.terminalId.localeCompare(b.terminalId));
  }

  get(terminalId: string): TerminalHealth | undefined {
    return this.snapshot().find((health) => health.terminalId === terminalId);
  }

  private touch(terminalId: string, receivedAt: Date): Entry {
    let entry = this.terminals.get(terminalId);
    if (!entry) {
      entry = { health: { terminalId, state: 'unknown', lastSeenAt: receivedAt.toISOString(), silent: false, clockDriftFlagged: false }, lastSeenMs: receivedAt.getTime() };
      this.terminals.set(terminalId, entry);
    }
    entry.lastSeenMs = Math.max(entry.lastSeenMs, receivedAt.getTime());
    entry.health.lastSeenAt = new Date(entry.lastSeenMs).toISOString();
    return entry;
  }

  private observeClock(entry: Entry, terminalTime: string, receivedAt: Date): void {
    const terminalMs = Date.parse(terminalTime);
    if (!Number.isFinite(terminalMs)) return;
    const drift = terminalMs - receivedAt.getTime();
    entry.health.clockDriftMs = drift;
    const flagged = Math.abs(drift) > this.settings.maxClockDriftMs;
    if (flagged !== entry.health.clockDriftFlagged) {
      const log = { terminalId: entry.health.terminalId, clockDriftMs: drift, maxClockDriftMs: this.settings.maxClockDriftMs };
      if (flagged) this.options.logger.warn(log, 'terminal clock drift exceeds the limit');
      else this.options.logger.info(log, 'terminal clock drift back within the limit');
    }
    entry.health.clockDriftFlagged = flagged;
  }
}
