import { TERMINAL_STATUS_SCHEMA, type TerminalStatus } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { FleetMonitor } from './fleet-monitor.js';

const start = new Date('2026-03-02T08:00:00Z');

function status(state: 'online' | 'offline', at: Date): TerminalStatus {
  return { schema: TERMINAL_STATUS_SCHEMA, terminalId: 'T1', state, at: at.toISOString(), softwareVersion: '0.1.0', backlog: 3, lastSequence: 40 };
}

function monitor() {
  let now = start;
  const fleet = new FleetMonitor({ logger: createLogger('test', 'silent'), maxClockDriftMs: 60_000, silenceMs: 90_000, now: () => now });
  return { fleet, setNow: (date: Date) => (now = date) };
}

describe('FleetMonitor', () => {
  it('tracks a heartbeat', () => {
    const { fleet } = monitor();
    fleet.observeStatus(status('online', start), start);
    const health = fleet.get('T1');
    expect(health?.state).toBe('online');
    expect(health?.lastHeartbeatAt).toBe(start.toISOString());
    expect(health?.backlog).toBe(3);
    expect(health?.clockDriftFlagged).toBe(false);
  });

  it('flags a silent online terminal', () => {
    const { fleet, setNow } = monitor();
    fleet.observeStatus(status('online', start), start);
    setNow(new Date(start.getTime() + 91_000));
    expect(fleet.get('T1')?.silent).toBe(true);
  });

  it('records the last will', () => {
    const { fleet, setNow } = monitor();
    fleet.observeStatus(status('online', start), start);
    fleet.observeStatus(status('offline', start), new Date(start.getTime() + 5_000));
    setNow(new Date(start.getTime() + 500_000));
    expect(fleet.get('T1')?.state).toBe('offline');
    expect(fleet.get('T1')?.silent).toBe(false);
  });

  it('flags clock drift both ways', () => {
    const { fleet } = monitor();
    fleet.observeStatus(status('online', new Date(start.getTime() - 120_000)), start);
    expect(fleet.get('T1')?.clockDriftFlagged).toBe(true);
    expect(fleet.get('T1')?.clockDriftMs).toBe(-120_000);
    fleet.observeStatus(status('online', new Date(start.getTime() + 1_000)), start);
    expect(fleet.get('T1')?.clockDriftFlagged).toBe(false);
  });

  it('ignores retained statuses for drift', () => {
    const { fleet } = monitor();
    fleet.observeStatus(status('online', new Date(start.getTime() - 3_600_000)), start, true);
    expect(fleet.get('T1')?.clockDriftMs).toBeUndefined();
    expect(fleet.get('T1')?.clockDriftFlagged).toBe(false);
  });

  it('flags a clock a day behind', () => {
    const { fleet } = monitor();
    fleet.observeStatus(status('online', new Date(start.getTime() - 24 * 3_600_000)), start);

    expect(fleet.get('T1')?.clockDriftMs).toBe(-24 * 3_600_000);
    expect(fleet.get('T1')?.clockDriftFlagged).toBe(true);
    expect(fleet.get('T1')?.state).toBe('online');
  });

  it('clears the flag after a status from the future', () => {
    const { fleet } = monitor();
    fleet.observeStatus(status('online', new Date(start.getTime() + 24 * 3_600_000)), start);
    expect(fleet.get('T1')?.clockDriftFlagged).toBe(true);

    fleet.observeStatus(status('online', start), start);

    expect(fleet.get('T1')?.clockDriftFlagged).toBe(false);
  });

  it('takes a last will older than the heartbeat', () => {
    const { fleet } = monitor();
    // A last will carries the time the terminal's uplink started, before its heartbeats.
    fleet.observeStatus(status('online', new Date(start.getTime() + 60_000)), new Date(start.getTime() + 60_000));
    fleet.observeStatus(status('offline', start), new Date(start.getTime() + 90_000));

    expect(fleet.get('T1')?.state).toBe('offline');
    expect(fleet.get('T1')?.lastHeartbeatAt).toBe(new Date(start.getTime() + 60_000).toISOString());
  });
});
