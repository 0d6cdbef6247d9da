import type { ApduTransport } from '../ports/apdu-transport.js';
import type { DriverScreen } from '../ports/driver-screen.js';
import { DRIVER_ALERTS } from '../screen/driver-alerts.js';
import { ApduSecureAccessModule } from '../tap/apdu-secure-access-module.js';

/**
 * The PSAM over APDUs, raising the `psam-fault` alert whenever opening it fails and clearing the
 * alert when an open succeeds. The runtime opens the PSAM at start and again after every reset, so
 * the alert stays up while the terminal cannot take fares for want of a PSAM.
 */
export class AlertingPsam extends ApduSecureAccessModule {
  constructor(
    transport: ApduTransport,
    private readonly screen: DriverScreen,
  ) {
    super(transport);
  }

  override async open(): Promise<void> {
    try {
      await super.open();
    } catch (error) {
      this.screen.raiseAlert(DRIVER_ALERTS.psamFault);
      throw error;
    }
    this.screen.clearAlert(DRIVER_ALERTS.psamFault.id);
  }
}
