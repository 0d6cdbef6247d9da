import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryDriverScreen } from '../ports/driver-screen.js';
import { AlertRelay } from './alert-relay.js';
import { DRIVER_ALERTS } from './driver-alerts.js';

const logger = pino({ level: 'silent' });

describe('AlertRelay', () => {
  it('keeps alerts raised before a screen exists', () => {
    const relay = new AlertRelay(logger);
    relay.raiseAlert(DRIVER_ALERTS.storageLow);
    relay.raiseAlert(DRIVER_ALERTS.psamFault);
    relay.clearAlert(DRIVER_ALERTS.psamFault.id);
    expect([...relay.alerts.keys()]).toEqual(['storage-low']);
  });

  it('replays open alerts to a new screen', () => {
    const relay = new AlertRelay(logger);
    relay.raiseAlert(DRIVER_ALERTS.storageLow);
    const screen = new MemoryDriverScreen();
    relay.forwardTo(screen);
    expect([...screen.alerts.values()]).toEqual([DRIVER_ALERTS.storageLow]);
  });

  it('forwards later raises and clears', () => {
    const relay = new AlertRelay(logger);
    const screen = new MemoryDriverScreen();
    relay.forwardTo(screen);
    relay.raiseAlert(DRIVER_ALERTS.readerServiceDown);
    expect(screen.alerts.has('reader-service-down')).toBe(true);
    relay.clearAlert('reader-service-down');
    expect(screen.alerts.size).toBe(0);
    expect(relay.alerts.size).toBe(0);
  });

  it('stops forwarding when detached', () => {
    const relay = new AlertRelay(logger);
    const screen = new MemoryDriverScreen();
    relay.forwardTo(screen);
    relay.forwardTo(undefined);
    relay.raiseAlert(DRIVER_ALERTS.parametersRejected);
    expect(screen.alerts.size).toBe(0);
    expect(relay.alerts.has('parameters-rejected')).toBe(true);
  });

  it('adds derived alerts to the status', () => {
    const relay = new AlertRelay(logger);
    relay.raiseAlert(DRIVER_ALERTS.clockWrong);
    expect(relay.statusAlerts()).toEqual([DRIVER_ALERTS.clockWrong]);

    const screen = Object.assign(new MemoryDriverScreen(), { derivedAlerts: () => [DRIVER_ALERTS.gpsLost, DRIVER_ALERTS.parametersMissing, DRIVER_ALERTS.clockWrong] });
    relay.forwardTo(screen);
    expect(relay.statusAlerts()).toEqual([DRIVER_ALERTS.parametersMissing, DRIVER_ALERTS.clockWrong, DRIVER_ALERTS.gpsLost]);
    expect([...relay.alerts.keys()]).toEqual(['clock-wrong']);
  });
});
