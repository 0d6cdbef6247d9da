import type { DriverAlert } from '../ports/driver-screen.js';

/**
 * Alerts the driver screen shows, each with the catalogue text that tells the driver what to do.
 * Other parts of the terminal raise them through the DriverScreen port by these ids.
 */
export const DRIVER_ALERTS = {
  readerFault: { id: 'reader-fault', severity: 'critical', messageId: 'alert.reader-fault' },
  psamFault: { id: 'psam-fault', severity: 'critical', messageId: 'alert.psam-fault' },
  readerServiceDown: { id: 'reader-service-down', severity: 'critical', messageId: 'alert.reader-service-down' },
  parametersMissing: { id: 'parameters-missing', severity: 'critical', messageId: 'alert.parameters-missing' },
  cardInDoubt: { id: 'card-in-doubt', severity: 'warning', messageId: 'alert.card-in-doubt' },
  gpsLost: { id: 'gps-lost', severity: 'warning', messageId: 'alert.gps-lost' },
  storageLow: { id: 'storage-low', severity: 'warning', messageId: 'alert.storage-low' },
  parametersOutdated: { id: 'parameters-outdated', severity: 'warning', messageId: 'alert.parameters-outdated' },
  parametersRejected: { id: 'parameters-rejected', severity: 'warning', messageId: 'alert.parameters-rejected' },
  clockWrong: { id: 'clock-wrong', severity: 'warning', messageId: 'alert.clock-wrong' },
  linkOffline: { id: 'link-offline', severity: 'info', messageId: 'alert.link-offline' },
} as const satisfies Record<string, DriverAlert>;

const SEVERITY_ORDER: Record<DriverAlert['severity'], number> = { critical: 0, warning: 1, info: 2 };

/** Sorts alerts most severe first, then by id, so the screen order is stable. */
export function sortAlerts(alerts: Iterable<DriverAlert>): DriverAlert[] {
  return [...alerts].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.id.localeCompare(b.id));
}
