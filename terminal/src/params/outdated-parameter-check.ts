import { blacklistChunkIndex, parameterSetSchema } from '@busfare/shared-protocol';
import type { Logger } from '../logger.js';
import type { Clock } from '../ports/clock.js';
import type { DriverScreen } from '../ports/driver-screen.js';
import { DRIVER_ALERTS } from '../screen/driver-alerts.js';
import type { ParameterAcceptResult, ParameterSink } from '../uplink/parameter-subscriber.js';
import type { ParameterStore, ParameterVersions } from './parameter-store.js';

/** Minutes after a received set's effective time (or its arrival, when later) before it counts as overdue. */
export const DEFAULT_PARAMETER_GRACE_MINUTES = 60;
/** Hours without a broker connection after which the stored sets may have been superseded. */
export const DEFAULT_PARAMETER_MAX_OFFLINE_HOURS = 24;
const CHECK_INTERVAL_MS = 60_000;

export interface OutdatedParameterCheckOptions {
  store: ParameterStore;
  clock: Clock;
  screen: DriverScreen;
  logger: Logger;
  /** Whether the uplink is connected to the broker now. */
  linkConnected: () => boolean;
  /** Default DEFAULT_PARAMETER_GRACE_MINUTES. */
  graceMinutes?: number | undefined;
  /** Default DEFAULT_PARAMETER_MAX_OFFLINE_HOURS. */
  maxOfflineHours?: number | undefined;
}

/** A signed, valid set that the store holds back until its other parts arrive. */
export interface WaitingParameterSet {
  kind: string;
  version: number;
  effectiveFrom: string;
  /** Wall time the terminal first received this version. */
  receivedAt: string;
}

/** Why the `parameters-outdated` alert is up: overdue sets, and hours offline beyond the limit. */
export interface OutdatedParameterState {
  alerted: boolean;
  overdue: WaitingParameterSet[];
  offlineTooLong: boolean;
}

/**
 * Raises `parameters-outdated` when the terminal runs on sets that the back office has replaced.
 * It sits between the uplink and the ParameterStore as the uplink's ParameterSink.
 *
 * How sets flow: the back office publishes each signed set retained on `parameters/{kind}`, and
 * the uplink subscribes on every connect with a clean session, so each connection delivers the
 * latest set of every kind again. A set that fails its checks is rejected and raises
 * `parameters-rejected`, which this check leaves alone. A valid set either is stored (and then
 * becomes active at its effectiveFrom without further help) or waits for its other parts: the
 * chunks of a packed blacklist, or the base version of a blacklist delta. Sets carry no expiry
 * time, so the terminal can fall behind in only two ways, and each raises the alert:
 *
 * - a waiting set is still not stored `graceMinutes` after its effectiveFrom, or after its
 *   arrival when that is later (a download that never completed);
 * - the uplink has been disconnected for more than `maxOfflineHours`, so no newer set could
 *   have arrived. Disconnected time is counted from the start of this process.
 *
 * The alert clears when neither holds: the waiting set is stored, and the link is up again.
 */
export class OutdatedParameterCheck implements ParameterSink {
  private readonly graceMs: number;
  private readonly maxOfflineMs: number;
  /** The newest waiting version of each kind. */
  private readonly waiting = new Map<string, WaitingParameterSet & { effectiveFromMs: number; receivedMs: number }>();
  private lastConnectedMonotonicMs: number;
  private alerted = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: OutdatedParameterCheckOptions) {
    const graceMinutes = options.graceMinutes ?? DEFAULT_PARAMETER_GRACE_MINUTES;
    const maxOfflineHours = options.maxOfflineHours ?? DEFAULT_PARAMETER_MAX_OFFLINE_HOURS;
    if (!(graceMinutes >= 0)) throw new RangeError(`invalid graceMinutes ${graceMinutes}: expected a number of minutes of at least 0`);
    if (!(maxOfflineHours > 0)) throw new RangeError(`invalid maxOfflineHours ${maxOfflineHours}: expected a positive number of hours`);
    this.graceMs = graceMinutes * 60_000;
    this.maxOfflineMs = maxOfflineHours * 3_600_000;
    // NOTE: offline time starts again with each process, so a bus switched off every night never
    // reaches the limit. A last-connected time kept on disk would close that gap.
    this.lastConnectedMonotonicMs = options.clock.monotonicMs();
  }

  /** Passes the message to the store and notes a valid set that waits for its other parts. */
  accept(raw: unknown, expected: { kind?: string } = {}): ParameterAcceptResult {
    const result = this.options.store.accept(raw, expected);
    const isChunk = expected.kind !== undefined && blacklistChunkIndex(expected.kind) !== undefined;
    // Only a set that passed every check, signature included, returns `waiting`, so its header
    // can be trusted. Chunks carry no header.
    if (result.ok && result.waiting !== undefined && !isChunk) this.noteWaiting(raw);
    this.check();
    return result;
  }

  versions(now: Date): ParameterVersions {
    return this.options.store.versions(now);
  }

  /** Checks every minute until stop(). */
  start(): void {
    this.check();
    this.timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Re-evaluates both rules and raises or clears the alert. */
  check(): OutdatedParameterState {
    const now = this.options.clock.now();
    const nowMs = now.getTime();
    const monotonicMs = this.options.clock.monotonicMs();
    if (this.options.linkConnected()) this.lastConnectedMonotonicMs = monotonicMs;
    const offlineTooLong = monotonicMs - this.lastConnectedMonotonicMs > this.maxOfflineMs;

    const versions = this.options.store.versions(now);
    const overdue: WaitingParameterSet[] = [];
    for (const [kind, set] of this.waiting) {
      const storedVersion = Math.max(versions.active[kind] ?? 0, versions.pending[kind] ?? 0);
      if (storedVersion >= set.version) {
        this.waiting.delete(kind);
        continue;
      }
      if (nowMs >= Math.max(set.effectiveFromMs, set.receivedMs) + this.graceMs) {
        overdue.push({ kind, version: set.version, effectiveFrom: set.effectiveFrom, receivedAt: set.receivedAt });
      }
    }

    this.update(overdue.length > 0 || offlineTooLong, { overdue, offlineTooLong });
    return { alerted: this.alerted, overdue, offlineTooLong };
  }

  private noteWaiting(raw: unknown): void {
    const header = parameterSetSchema.safeParse(parseJson(raw));
    if (!header.success) return;
    const { kind, version, effectiveFrom } = header.data;
    const known = this.waiting.get(kind);
    if (known && known.version >= version) return;
    const now = this.options.clock.now();
    this.waiting.set(kind, { kind, version, effectiveFrom, effectiveFromMs: Date.parse(effectiveFrom), receivedAt: now.toISOString(), receivedMs: now.getTime() });
  }

  private update(outdated: boolean, reasons: { overdue: WaitingParameterSet[]; offlineTooLong: boolean }): void {
    if (outdated === this.alerted) return;
    this.alerted = outdated;
    if (outdated) {
      this.options.logger.warn(reasons, 'parameter sets are outdated');
      this.options.screen.raiseAlert(DRIVER_ALERTS.parametersOutdated);
    } else {
      this.options.logger.info('parameter sets are current again');
      this.options.screen.clearAlert(DRIVER_ALERTS.parametersOutdated.id);
    }
  }
}

function parseJson(raw: unknown): unknown {
  if (typeof raw !== 'string' && !(raw instanceof Uint8Array)) return raw;
  try {
    return JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
}
