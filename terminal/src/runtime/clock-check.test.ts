import { EventEmitter } from 'node:events';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../ports/clock.js';
import { MemoryDriverScreen } from '../ports/driver-screen.js';
import type { GnssFix, PositionSource, PositionSourceEvents } from '../ports/position-source.js';
import { ClockCheck, type ClockCheckOptions } from './clock-check.js';

const logger = pino({ level: 'silent' });
const BUILD_DATE = '2026-12-01';
const NOW = new Date('2026-12-04T08:00:00Z');

/** A position source that emits only the fixes a test hands it. */
class FakePositionSource extends EventEmitter<PositionSourceEvents> implements PositionSource {
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

let checks: ClockCheck[] = [];
afterEach(() => {
  for (const check of checks) check.stop();
  checks = [];
});

function setUp(options: Partial<ClockCheckOptions> = {}, start = NOW) {
  const clock = new ManualClock(start);
  const screen = new MemoryDriverScreen();
  const check = new ClockCheck({ clock, screen, logger, buildDate: BUILD_DATE, maxOffsetSeconds: 30, consecutiveFixes: 3, ...options });
  checks.push(check);
  /** Sends one fix whose GNSS time differs from the terminal clock by `offsetSeconds`, then moves both one second on. */
  const fixOff = (offsetSeconds: number) => {
    check.acceptFix(fixAt(new Date(clock.now().getTime() + offsetSeconds * 1000)));
    clock.advance(1000);
  };
  return { clock, screen, check, fixOff };
}

function fixAt(time: Date | null): GnssFix {
  return { time, lat: 31.3, lon: 120.6, quality: 1, satellites: 9, hdop: 0.9, talker: 'GN' };
}

describe('ClockCheck', () => {
  it('raises nothing within the threshold', () => {
    const { screen, check, fixOff } = setUp();
    check.start();
    for (const offset of [0, 1.2, -29, 29.9, -3]) fixOff(offset);
    expect(screen.alerts.has('clock-wrong')).toBe(false);
    expect(check.state().alerted).toBe(false);
  });

  it('raises and clears after N fixes', () => {
    const { screen, check, fixOff } = setUp();
    check.start();
    fixOff(45);
    fixOff(45);
    expect(screen.alerts.has('clock-wrong')).toBe(false);
    fixOff(45);
    expect(screen.alerts.get('clock-wrong')).toEqual({ id: 'clock-wrong', severity: 'warning', messageId: 'alert.clock-wrong' });
    expect(check.state().offsetSeconds).toBe(45);

    fixOff(2);
    fixOff(2);
    expect(screen.alerts.has('clock-wrong')).toBe(true);
    fixOff(2);
    expect(screen.alerts.has('clock-wrong')).toBe(false);
    expect(check.state().offsetSeconds).toBe(2);
  });

  it('ignores a single bad fix', () => {
    const { screen, fixOff } = setUp();
    fixOff(0);
    fixOff(-45);
    fixOff(0);
    fixOff(-45);
    fixOff(-45);
    fixOff(0);
    expect(screen.alerts.has('clock-wrong')).toBe(false);
  });

  it('keeps the alert through a single good fix', () => {
    const { screen, fixOff } = setUp();
    for (let i = 0; i < 3; i += 1) fixOff(120);
    fixOff(0);
    fixOff(120);
    expect(screen.alerts.has('clock-wrong')).toBe(true);
  });

  it('skips fixes without a trusted time', () => {
    const { screen, check } = setUp({ consecutiveFixes: 1 });
    check.acceptFix(fixAt(null));
    expect(screen.alerts.has('clock-wrong')).toBe(false);
    expect(check.state().offsetSeconds).toBeUndefined();
  });

  it('raises before the build date without GPS', () => {
    const { screen, check, clock } = setUp({}, new Date('2000-01-01T00:00:07Z'));
    check.start();
    expect(screen.alerts.has('clock-wrong')).toBe(true);
    expect(check.state()).toEqual({ alerted: true, beforeBuildDate: true, gnssOffsetWrong: false });

    clock.setWall(NOW);
    check.checkBuildDate();
    expect(screen.alerts.has('clock-wrong')).toBe(false);
  });

  it('counts the build date from 00:00 UTC', () => {
    const justBefore = setUp({}, new Date('2026-11-30T23:59:59Z'));
    justBefore.check.start();
    expect(justBefore.screen.alerts.has('clock-wrong')).toBe(true);
    const onTheDay = setUp({}, new Date('2026-12-01T00:00:00Z'));
    onTheDay.check.start();
    expect(onTheDay.screen.alerts.has('clock-wrong')).toBe(false);
  });

  it('keeps build-date alert despite GNSS', () => {
    const { screen, check, fixOff } = setUp({}, new Date('2000-01-01T00:00:00Z'));
    check.start();
    for (let i = 0; i < 5; i += 1) fixOff(0);
    expect(screen.alerts.has('clock-wrong')).toBe(true);
  });

  it('follows a position source until stopped', () => {
    const { screen, check, clock } = setUp({ consecutiveFixes: 2 });
    const positions = new FakePositionSource();
    check.start(positions);
    positions.emit('fix', fixAt(new Date(clock.now().getTime() - 60_000)));
    positions.emit('fix', fixAt(new Date(clock.now().getTime() - 60_000)));
    expect(screen.alerts.has('clock-wrong')).toBe(true);

    check.stop();
    expect(positions.listenerCount('fix')).toBe(0);
  });

  it.each([
    [{ buildDate: '4 December' }, /invalid build date "4 December"/],
    [{ maxOffsetSeconds: 0 }, /invalid maxOffsetSeconds 0/],
    [{ maxOffsetSeconds: Number.NaN }, /invalid maxOffsetSeconds NaN/],
    [{ consecutiveFixes: 0 }, /invalid consecutiveFixes 0/],
    [{ consecutiveFixes: 2.5 }, /invalid consecutiveFixes 2.5/],
  ])('rejects options %o', (options, message) => {
    expect(() => setUp(options)).toThrow(message);
  });
});
