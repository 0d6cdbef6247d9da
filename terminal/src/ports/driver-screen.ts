/** Alerts that other parts of the terminal raise for the driver. */
export interface DriverAlert {
  /** Stable id, so raising the same alert twice shows it once (e.g. "reader-down"). */
  id: string;
  severity: 'info' | 'warning' | 'critical';
  /** Message catalogue id of the text the driver reads. */
  messageId: string;
}

/** The driver-facing page; the terminal pushes state and alerts into it. */
export interface DriverScreen {
  raiseAlert(alert: DriverAlert): void;
  clearAlert(id: string): void;
}

/** A screen that keeps the alerts in memory, for headless terminals and tests. */
export class MemoryDriverScreen implements DriverScreen {
  readonly alerts = new Map<string, DriverAlert>();

  raiseAlert(alert: DriverAlert): void {
    this.alerts.set(alert.id, alert);
  }

  clearAlert(id: string): void {
    this.alerts.delete(id);
  }
}
