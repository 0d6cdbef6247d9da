import type { Logger } from '../logger.js';
import type { DriverAlert, DriverScreen } from '../ports/driver-screen.js';
import { DRIVER_ALERTS } from '../screen/driver-alerts.js';

/** A parameter set the terminal rejected, with every problem found. */
export interface ParameterRejection {
  /** The kind the topic or set named, or `(unknown)`. */
  kind: string;
  at: string;
  problems: string[];
}

/**
 * The latest rejection of each parameter kind. While any is open the driver sees the
 * `parameters-rejected` alert and the status carries it; a good set of the kind closes it.
 */
export class ParameterRejections {
  private readonly open = new Map<string, ParameterRejection>();

  constructor(
    private readonly logger: Logger | undefined,
    private screen: DriverScreen | undefined,
  ) {}

  attach(screen: DriverScreen): void {
    this.screen = screen;
    if (this.open.size > 0) screen.raiseAlert(DRIVER_ALERTS.parametersRejected);
  }

  record(kind: string, at: Date, problems: string[]): void {
    this.open.set(kind, { kind, at: at.toISOString(), problems });
    this.logger?.error({ kind, problems }, 'rejected parameter set, the last good set stays active');
    this.screen?.raiseAlert(DRIVER_ALERTS.parametersRejected);
  }

  resolve(kind: string): void {
    if (!this.open.delete(kind)) return;
    if (this.open.size === 0) this.screen?.clearAlert(DRIVER_ALERTS.parametersRejected.id);
  }

  list(): ParameterRejection[] {
    return [...this.open.values()];
  }

  alerts(): DriverAlert[] {
    return this.open.size === 0 ? [] : [DRIVER_ALERTS.parametersRejected];
  }
}
