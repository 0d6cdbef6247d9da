import type { DeviceHealth, UiTextId } from '@busfare/shared-protocol';
import type { DriverAlert, DriverScreen } from '../../ports/driver-screen.js';
import type { StatusDetails } from '../../uplink/status-message.js';

/** Receives pcscd outages from the PC/SC adapters. */
export interface ServiceAlertHook {
  serviceDown(detail: string): void;
  serviceUp(): void;
}

export const READER_SERVICE_DOWN_ALERT_ID = 'reader-service-down';
const READER_SERVICE_DOWN_MESSAGE: UiTextId = 'alert.reader-service-down';

export interface DriverScreenServiceAlertOptions {
  screen: DriverScreen;
  /** Called after each change, so the runtime can publish the status topic at once. */
  onChange?: (details: StatusDetails) => void;
}

/**
 * Shows "reader service down" on the driver's screen while pcscd is unavailable, and gives the
 * same state to the status topic through `statusDetails()` (the uplink's `statusProvider`).
 */
export class DriverScreenServiceAlert implements ServiceAlertHook {
  private down = false;
  private lastDetail: string | undefined;

  constructor(private readonly options: DriverScreenServiceAlertOptions) {}

  get isDown(): boolean {
    return this.down;
  }

  /** Reason pcscd was last found unavailable, for logs. */
  get detail(): string | undefined {
    return this.lastDetail;
  }

  serviceDown(detail: string): void {
    this.lastDetail = detail;
    if (this.down) return;
    this.down = true;
    this.options.screen.raiseAlert(this.alert);
    this.options.onChange?.(this.statusDetails());
  }

  serviceUp(): void {
    if (!this.down) return;
    this.down = false;
    this.options.screen.clearAlert(READER_SERVICE_DOWN_ALERT_ID);
    this.options.onChange?.(this.statusDetails());
  }

  /** Returns the reader health and the open alert in the shape of the status message. */
  statusDetails(): StatusDetails {
    const reader: DeviceHealth = this.down ? 'down' : 'ok';
    return { devices: { reader }, alerts: this.down ? [this.alert] : [] };
  }

  private get alert(): DriverAlert {
    return { id: READER_SERVICE_DOWN_ALERT_ID, severity: 'critical', messageId: READER_SERVICE_DOWN_MESSAGE };
  }
}
