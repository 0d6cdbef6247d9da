import { EventEmitter } from 'node:events';
import { CHINA_UTC_OFFSET_MINUTES, type CardType, type DeviceHealth, type ShiftCounters, type ShiftRecord } from '@busfare/shared-protocol';
import type { CardReader } from '../ports/card-reader.js';
import type { Clock } from '../ports/clock.js';
import type { DriverAlert, DriverScreen } from '../ports/driver-screen.js';
import type { GnssFix, PositionSource } from '../ports/position-source.js';
import type { TerminalRuntimeEvents } from '../runtime/terminal-runtime.js';
import type { DriverShift, ServiceChoice } from '../shift/driver-shift.js';
import type { DriverCardTap, TapOutcome } from '../tap/tap-outcome.js';
import { DRIVER_ALERTS, sortAlerts } from './driver-alerts.js';
import type { StopProgress } from '../trip/stop-tracker.js';

/** Everything the driver's page shows, as sent to the browser. */
export interface DriverScreenSnapshot {
  terminalId: string;
  vehicleId: string;
  shift: {
    shiftId: string;
    driverId: string;
    startedAt: string;
    route?: string;
    direction?: 0 | 1;
    serviceConfirmed: boolean;
    counters: ShiftCounters;
  } | null;
  serviceChoices: ServiceChoice[];
  stops: { current?: string; next?: string };
  lastTap: {
    status: TapOutcome['status'];
    promptId: TapOutcome['promptId'];
    cardType?: CardType;
    amountFen?: number;
    balanceFen?: number;
    /** Set when a driver card was tapped. */
    driverCard?: DriverCardTap;
    at: string;
  } | null;
  link: { connected: boolean; backlog: number };
  parameters: { active: Record<string, number>; pending: Record<string, number> };
  alerts: DriverAlert[];
  lastShift: { record: ShiftRecord; sentAt: string | null } | null;
  /** Offset of the terminal's local time from UTC. The page shows times in it, whatever the browser's time zone. */
  utcOffsetMinutes: number;
}

export interface DriverScreenStateOptions {
  terminalId: string;
  vehicleId: string;
  shift: DriverShift;
  clock: Clock;
  link: () => { connected: boolean; backlog: number };
  parameters: () => { active: Record<string, number>; pending: Record<string, number> };
  /** Progress of the bus along its service (the runtime's stopProgress); without it no stops are shown. */
  stopProgress?: () => StopProgress;
  /** Whether an active fare table exists; without one every tap fails. */
  hasFareTable: () => boolean;
  /** Milliseconds without a GPS fix before the GPS-lost alert (default 30 s). */
  gpsLostAfterMs?: number;
  /** Milliseconds an in-doubt alert stays when the card does not come back (default 5 minutes). */
  inDoubtAlertMs?: number;
  /** Offset of the terminal's local time from UTC (default China Standard Time, 480). */
  utcOffsetMinutes?: number;
}

export interface DriverScreenStateEvents {
  change: [];
}

/**
 * The driver screen's model. It implements the DriverScreen port for alerts that other parts
 * raise, and it follows the runtime's taps and fixes and the reader's health events. It derives
 * the alerts it can detect itself (GPS lost, link offline, no fare table, a tap in doubt) and
 * builds the snapshot.
 */
export class DriverScreenState extends EventEmitter<DriverScreenStateEvents> implements DriverScreen {
  private readonly raised = new Map<string, DriverAlert>();
  private lastTap: DriverScreenSnapshot['lastTap'] = null;
  private lastFixMs?: number;
  private readonly startedMs: number;
  private tracksGps = false;
  private shownStops = '{}';
  private inDoubt?: { asn?: string; sinceMs: number };
  private readonly detachers: Array<() => void> = [];

  constructor(private readonly options: DriverScreenStateOptions) {
    super();
    this.startedMs = options.clock.monotonicMs();
    const onShift = () => this.emit('change');
    options.shift.on('change', onShift);
    this.detachers.push(() => options.shift.off('change', onShift));
  }

  raiseAlert(alert: DriverAlert): void {
    const known = this.raised.get(alert.id);
    this.raised.set(alert.id, alert);
    if (!known || known.severity !== alert.severity || known.messageId !== alert.messageId) this.emit('change');
  }

  clearAlert(id: string): void {
    if (this.raised.delete(id)) this.emit('change');
  }

  /** Follows a runtime's taps and fixes, and the health of its reader and position source. */
  attach(runtime: EventEmitter<TerminalRuntimeEvents>, devices: { reader?: CardReader; positions?: PositionSource } = {}): void {
    const onTap = (outcome: TapOutcome) => this.acceptTap(outcome);
    const onFix = (fix: GnssFix) => this.acceptFix(fix);
    runtime.on('tap', onTap);
    runtime.on('fix', onFix);
    this.detachers.push(() => runtime.off('tap', onTap), () => runtime.off('fix', onFix));
    if (devices.positions) this.tracksGps = true;
    if (devices.reader) {
      const onHealth = (health: DeviceHealth) => this.setHealthAlert(DRIVER_ALERTS.readerFault, health);
      devices.reader.on('health', onHealth);
      this.detachers.push(() => devices.reader?.off('health', onHealth));
    }
  }

  detach(): void {
    for (const detach of this.detachers.splice(0)) detach();
  }

  /** Builds what the page shows now. */
  snapshot(): DriverScreenSnapshot {
    const open = this.options.shift.current();
    const latest = this.options.shift.latestRecord();
    return {
      terminalId: this.options.terminalId,
      vehicleId: this.options.vehicleId,
      shift: open
        ? {
            shiftId: open.shiftId,
            driverId: open.driverId,
            startedAt: open.startedAt,
            ...(open.route === undefined ? {} : { route: open.route }),
            ...(open.direction === undefined ? {} : { direction: open.direction }),
            serviceConfirmed: open.serviceConfirmed,
            counters: open.counters,
          }
        : null,
      serviceChoices: open && !open.serviceConfirmed ? this.options.shift.serviceChoices() : [],
      stops: this.stops(),
      lastTap: this.lastTap,
      link: this.options.link(),
      parameters: this.options.parameters(),
      alerts: this.currentAlerts(),
      lastShift: latest ? { record: latest.record, sentAt: latest.sentAt } : null,
      utcOffsetMinutes: this.options.utcOffsetMinutes ?? CHINA_UTC_OFFSET_MINUTES,
    };
  }

  /** Returns the open alerts, raised and derived, most severe first, as the page and the status show them. */
  currentAlerts(): DriverAlert[] {
    return sortAlerts(this.alerts().values());
  }

  /** Returns the alerts this state derives itself: no fare table, link offline, GPS lost, a tap in doubt. */
  derivedAlerts(): DriverAlert[] {
    return [...this.derive(new Map()).values()];
  }

  private alerts(): Map<string, DriverAlert> {
    return this.derive(new Map(this.raised));
  }

  private derive(alerts: Map<string, DriverAlert>): Map<string, DriverAlert> {
    const nowMs = this.options.clock.monotonicMs();
    if (!this.options.hasFareTable()) alerts.set(DRIVER_ALERTS.parametersMissing.id, DRIVER_ALERTS.parametersMissing);
    if (!this.options.link().connected) alerts.set(DRIVER_ALERTS.linkOffline.id, DRIVER_ALERTS.linkOffline);
    const gpsLostAfterMs = this.options.gpsLostAfterMs ?? 30_000;
    if (this.tracksGps && nowMs - (this.lastFixMs ?? this.startedMs) > gpsLostAfterMs) alerts.set(DRIVER_ALERTS.gpsLost.id, DRIVER_ALERTS.gpsLost);
    if (this.inDoubt && nowMs - this.inDoubt.sinceMs > (this.options.inDoubtAlertMs ?? 300_000)) this.inDoubt = undefined;
    if (this.inDoubt) alerts.set(DRIVER_ALERTS.cardInDoubt.id, DRIVER_ALERTS.cardInDoubt);
    return alerts;
  }

  private acceptTap(outcome: TapOutcome): void {
    this.options.shift.recordTap(outcome);
    this.lastTap = {
      status: outcome.status,
      promptId: outcome.promptId,
      ...(outcome.cardType === undefined ? {} : { cardType: outcome.cardType }),
      ...(outcome.amountFen === undefined ? {} : { amountFen: outcome.amountFen }),
      ...(outcome.balanceFen === undefined ? {} : { balanceFen: outcome.balanceFen }),
      ...(outcome.driverCard === undefined ? {} : { driverCard: outcome.driverCard }),
      at: this.options.clock.now().toISOString(),
    };
    if (outcome.status === 'in-doubt') {
      this.inDoubt = { asn: outcome.asn, sinceMs: this.options.clock.monotonicMs() };
    } else if (this.inDoubt && (outcome.status === 'accepted' || outcome.status === 'recovered') && outcome.asn === this.inDoubt.asn) {
      this.inDoubt = undefined;
    }
    this.emit('change');
  }

  private acceptFix(_fix: GnssFix): void {
    this.lastFixMs = this.options.clock.monotonicMs();
    const stops = JSON.stringify(this.stops());
    if (stops !== this.shownStops) {
      this.shownStops = stops;
      this.emit('change');
    }
  }

  private setHealthAlert(alert: DriverAlert, health: DeviceHealth): void {
    if (health === 'fault' || health === 'down') this.raiseAlert(alert);
    else if (health === 'ok') this.clearAlert(alert.id);
  }

  private stops(): DriverScreenSnapshot['stops'] {
    const progress = this.options.stopProgress?.() ?? {};
    return {
      ...(progress.current ? { current: progress.current.name } : {}),
      ...(progress.next ? { next: progress.next.name } : {}),
    };
  }
}
