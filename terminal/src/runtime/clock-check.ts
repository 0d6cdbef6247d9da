import type { Logger } from '../logger.js';
import type { Clock } from '../ports/clock.js';
import type { DriverScreen } from '../ports/driver-screen.js';
import type { GnssFix, PositionSource } from '../ports/position-source.js';
import { DRIVER_ALERTS } from '../screen/driver-alerts.js';

/** Largest difference between the terminal clock and GNSS time that is still right, in seconds. */
export const DEFAULT_CLOCK_MAX_OFFSET_SECONDS = 30;
/** Consecutive fixes that must agree before the clock-wrong alert is raised or cleared. */
export const DEFAULT_CLOCK_CONSECUTIVE_FIXES = 5;
const BUILD_DATE_CHECK_INTERVAL_MS = 60_000;

export interface ClockCheckOptions {
  /** The clock that stamps tap records. */
  clock: Clock;
  screen: DriverScreen;
  logger: Logger;
  /** UTC date (YYYY-MM-DD) of the release: a clock that reads earlier is wrong even without GNSS. */
  buildDate: string;
  /** Default DEFAULT_CLOCK_MAX_OFFSET_SECONDS. */
  maxOffsetSeconds?: number | undefined;
  /** Default DEFAULT_CLOCK_CONSECUTIVE_FIXES. */
  consecutiveFixes?: number | undefined;
}

/** Result of the latest check. `offsetSeconds` is GNSS time minus terminal time, rounded. */
export interface ClockCheckState {
  alerted: boolean;
  beforeBuildDate: boolean;
  gnssOffsetWrong: boolean;
  offsetSeconds?: number;
}

/**
 * Raises `clock-wrong` on the driver's screen in two cases. The terminal clock differs from GNSS
 * time by more than the threshold for N consecutive fixes, or it reads before the release's build
 * date, as on a reader whose RTC battery died and that booted in 1970 or 2000. The alert clears
 * after N consecutive fixes within the threshold once the clock is past the build date again, so
 * one bad fix neither raises nor clears it.
 *
 * The check only reports. Tap records keep the terminal clock's time, because the back office
 * already flags each terminal's clock drift from the `at` time of its status messages, and a
 * record's time must not jump when a fix is wrong.
 */
export class ClockCheck {
  private readonly maxOffsetMs: number;
  private readonly consecutiveFixes: number;
  private readonly buildDateMs: number;
  private wrongStreak = 0;
  private rightStreak = 0;
  private gnssOffsetWrong = false;
  private beforeBuildDate = false;
  private alerted = false;
  private offsetSeconds: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private positions: PositionSource | undefined;
  private readonly onFix = (fix: GnssFix) => this.acceptFix(fix);

  constructor(private readonly options: ClockCheckOptions) {
    this.maxOffsetMs = (options.maxOffsetSeconds ?? DEFAULT_CLOCK_MAX_OFFSET_SECONDS) * 1000;
    this.consecutiveFixes = options.consecutiveFixes ?? DEFAULT_CLOCK_CONSECUTIVE_FIXES;
    this.buildDateMs = /^\d{4}-\d{2}-\d{2}$/.test(options.buildDate) ? Date.parse(`${options.buildDate}T00:00:00Z`) : Number.NaN;
    if (!Number.isFinite(this.buildDateMs)) throw new RangeError(`invalid build date ${JSON.stringify(options.buildDate)}: expected YYYY-MM-DD`);
    if (!(this.maxOffsetMs > 0)) throw new RangeError(`invalid maxOffsetSeconds ${options.maxOffsetSeconds}: expected a positive number of seconds`);
    if (!Number.isInteger(this.consecutiveFixes) || this.consecutiveFixes < 1) {
      throw new RangeError(`invalid consecutiveFixes ${options.consecutiveFixes}: expected a whole number of at least 1`);
    }
  }

  /** Checks the build date now and every minute, and every fix of `positions` when given. */
  start(positions?: PositionSource): void {
    this.checkBuildDate();
    this.timer = setInterval(() => this.checkBuildDate(), BUILD_DATE_CHECK_INTERVAL_MS);
    this.timer.unref();
    if (positions) {
      this.positions = positions;
      positions.on('fix', this.onFix);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.positions?.off('fix', this.onFix);
    this.positions = undefined;
  }

  /** Compares one fix's UTC time with the terminal clock; fixes without a trusted time are skipped. */
  acceptFix(fix: GnssFix): void {
    if (fix.time === null) return;
    const offsetMs = fix.time.getTime() - this.options.clock.now().getTime();
    this.offsetSeconds = Math.round(offsetMs / 1000);
    if (Math.abs(offsetMs) > this.maxOffsetMs) {
      this.rightStreak = 0;
      this.wrongStreak += 1;
      if (this.wrongStreak >= this.consecutiveFixes) this.gnssOffsetWrong = true;
    } else {
      this.wrongStreak = 0;
      this.rightStreak += 1;
      if (this.rightStreak >= this.consecutiveFixes) this.gnssOffsetWrong = false;
    }
    this.checkBuildDate();
  }

  /** Re-evaluates the build-date rule and raises or clears the alert. */
  checkBuildDate(): void {
    this.beforeBuildDate = this.options.clock.now().getTime() < this.buildDateMs;
    this.update();
  }

  state(): ClockCheckState {
    return {
      alerted: this.alerted,
      beforeBuildDate: this.beforeBuildDate,
      gnssOffsetWrong: this.gnssOffsetWrong,
      ...(this.offsetSeconds === undefined ? {} : { offsetSeconds: this.offsetSeconds }),
    };
  }

  private update(): void {
    const wrong = this.beforeBuildDate || this.gnssOffsetWrong;
    if (wrong === this.alerted) return;
    this.alerted = wrong;
    const details = { offsetSeconds: this.offsetSeconds, beforeBuildDate: this.beforeBuildDate, buildDate: this.options.buildDate, terminalTime: this.options.clock.now().toISOString() };
    if (wrong) {
      this.options.logger.warn(details, 'terminal clock is wrong');
      this.options.screen.raiseAlert(DRIVER_ALERTS.clockWrong);
    } else {
      this.options.logger.info(details, 'terminal clock is right again');
      this.options.screen.clearAlert(DRIVER_ALERTS.clockWrong.id);
    }
  }
}
