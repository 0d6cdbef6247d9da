import type { Logger } from '../logger.js';
import type { DriverAlert, DriverScreen } from '../ports/driver-screen.js';
import { sortAlerts } from './driver-alerts.js';

/** A screen that also works out alerts of its own, such as GPS lost or link offline. */
export interface DerivedAlertSource {
  derivedAlerts(): DriverAlert[];
}

/**
 * The DriverScreen that the stores and device adapters raise alerts on. It logs each raise and
 * clear and keeps the open alerts for the status message. The stores are opened before the
 * driver's screen can be built, so the relay passes the alerts on once the screen exists.
 */
export class AlertRelay implements DriverScreen {
  readonly alerts = new Map<string, DriverAlert>();
  private target?: DriverScreen & Partial<DerivedAlertSource>;

  constructor(private readonly logger: Logger) {}

  raiseAlert(alert: DriverAlert): void {
    if (!this.alerts.has(alert.id)) this.logger.warn({ alert }, 'driver alert raised');
    this.alerts.set(alert.id, alert);
    this.target?.raiseAlert(alert);
  }

  clearAlert(id: string): void {
    if (this.alerts.delete(id)) this.logger.info({ alertId: id }, 'driver alert cleared');
    this.target?.clearAlert(id);
  }

  /** Raises the open alerts on `screen` now and passes every later change on. Undefined stops forwarding. */
  forwardTo(screen: (DriverScreen & Partial<DerivedAlertSource>) | undefined): void {
    this.target = screen;
    if (!screen) return;
    for (const alert of this.alerts.values()) screen.raiseAlert(alert);
  }

  /**
   * Returns the alerts for the status message: those raised here and those the current screen
   * derives, most severe first. The uplink publishes only while connected, so `link-offline`
   * rarely reaches the back office, which learns of a lost link from the `offline` last will.
   */
  statusAlerts(): DriverAlert[] {
    const alerts = new Map(this.alerts);
    for (const alert of this.target?.derivedAlerts?.() ?? []) if (!alerts.has(alert.id)) alerts.set(alert.id, alert);
    return sortAlerts(alerts.values());
  }
}
