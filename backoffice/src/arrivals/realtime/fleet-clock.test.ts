import { describe, expect, it } from 'vitest';
import { FLEET_CLOCK_WINDOW_S, FleetClock } from './fleet-clock.js';

const NOW = 1_772_409_600;
const TWO_DAYS_S = 2 * 86_400;

/** Adds one upload per terminal, received at `receivedAt`, whose newest fix is `offsetS` after it. */
function addUploads(clock: FleetClock, offsets: Record<string, number>, receivedAt = NOW - 5): void {
  for (const [terminalId, offsetS] of Object.entries(offsets)) clock.add(terminalId, receivedAt + offsetS, receivedAt);
}

describe('FleetClock', () => {
  it('needs three terminals', () => {
    const clock = new FleetClock();
    addUploads(clock, { 'T-1': 1200, 'T-2': 1201 });

    expect(clock.estimate(NOW)).toBeUndefined();

    addUploads(clock, { 'T-3': 1199 });

    expect(clock.estimate(NOW)).toEqual({ offsetS: 1200, terminals: 3, agreeing: 3 });
  });

  it('ignores a minority with wrong clocks', () => {
    const clock = new FleetClock();
    addUploads(clock, { 'T-1': -2, 'T-2': -1, 'T-3': -3, 'T-4': TWO_DAYS_S, 'T-5': TWO_DAYS_S + 7 });

    expect(clock.estimate(NOW)).toEqual({ offsetS: -2, terminals: 5, agreeing: 3 });
  });

  it('needs more than half to agree', () => {
    const clock = new FleetClock();
    addUploads(clock, { 'T-1': 0, 'T-2': 1, 'T-3': 2, 'T-4': TWO_DAYS_S, 'T-5': TWO_DAYS_S, 'T-6': TWO_DAYS_S });

    expect(clock.estimate(NOW)).toBeUndefined();
  });

  it('needs offsets that agree', () => {
    const clock = new FleetClock();
    addUploads(clock, { 'T-1': 0, 'T-2': 600, 'T-3': 1200, 'T-4': 1800, 'T-5': 2400 });

    expect(clock.estimate(NOW)).toBeUndefined();
  });

  it('averages the two middle offsets', () => {
    const clock = new FleetClock();
    addUploads(clock, { 'T-1': 10, 'T-2': 20, 'T-3': 30, 'T-4': 40 });

    expect(clock.estimate(NOW)?.offsetS).toBe(25);
  });

  it('counts each terminal once', () => {
    const clock = new FleetClock();
    addUploads(clock, { 'T-1': 0, 'T-2': 0, 'T-3': 0 });
    // One terminal whose clock runs two days ahead sends many uploads; it keeps one offset.
    for (let upload = 0; upload < 100; upload += 1) clock.add('T-9', NOW + TWO_DAYS_S, NOW - 100 + upload);

    expect(clock.estimate(NOW)).toEqual({ offsetS: 0, terminals: 4, agreeing: 3 });
  });

  it('takes the newest fix of an upload', () => {
    const clock = new FleetClock();
    for (const terminalId of ['T-1', 'T-2', 'T-3']) {
      // Fixes every 15 s over 10 minutes, uploaded together 2 s after the last one.
      for (let fixTime = NOW - 600; fixTime <= NOW - 10; fixTime += 15) clock.add(terminalId, fixTime, NOW - 8);
    }

    expect(clock.estimate(NOW)?.offsetS).toBe(-7);
  });

  it('replaces an offset by a later upload', () => {
    const clock = new FleetClock();
    addUploads(clock, { 'T-1': 1200, 'T-2': 1200, 'T-3': 1200 }, NOW - 60);
    // The back office's clock was set right between the uploads.
    addUploads(clock, { 'T-1': 0, 'T-2': 1, 'T-3': 2 }, NOW - 10);

    expect(clock.estimate(NOW)?.offsetS).toBe(1);
  });

  it('forgets terminals outside the window', () => {
    const clock = new FleetClock();
    addUploads(clock, { 'T-1': 1200, 'T-2': 1200 }, NOW - FLEET_CLOCK_WINDOW_S - 1);
    addUploads(clock, { 'T-3': 1200 }, NOW - FLEET_CLOCK_WINDOW_S);

    expect(clock.estimate(NOW)).toBeUndefined();

    addUploads(clock, { 'T-1': 1200, 'T-2': 1200 }, NOW - 1);

    expect(clock.estimate(NOW)).toEqual({ offsetS: 1200, terminals: 3, agreeing: 3 });
  });

  it('forgets uploads received after now', () => {
    const clock = new FleetClock();
    // Received before the back office's clock was set back by an hour.
    addUploads(clock, { 'T-1': -3600, 'T-2': -3600, 'T-3': -3600 }, NOW + 3600);

    expect(clock.estimate(NOW)).toBeUndefined();
    expect(clock.estimate(NOW + 3600)).toBeUndefined();
  });

  it('skips times that are not numbers', () => {
    const clock = new FleetClock();
    addUploads(clock, { 'T-1': 0, 'T-2': 0 });
    clock.add('T-3', Number.NaN, NOW);

    expect(clock.estimate(NOW)).toBeUndefined();
  });

  it('confirms an offset all terminals share', () => {
    const clock = new FleetClock();
    addUploads(clock, { 'T-1': 1200, 'T-2': 1230 });

    expect(clock.confirms(1200, NOW)).toBe(true);
  });

  it('confirms no offset one terminal contradicts', () => {
    const clock = new FleetClock();
    addUploads(clock, { 'T-1': 1200, 'T-2': 0 });

    expect(clock.confirms(1200, NOW)).toBe(false);
  });

  it('confirms nothing without terminals', () => {
    const clock = new FleetClock();
    addUploads(clock, { 'T-1': 1200 }, NOW - FLEET_CLOCK_WINDOW_S - 1);

    expect(clock.confirms(1200, NOW)).toBe(false);
  });
});
