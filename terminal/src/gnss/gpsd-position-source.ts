import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { DeviceHealth } from '@busfare/shared-protocol';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { GnssFix, PositionSource, PositionSourceEvents } from '../ports/position-source.js';
import { DEFAULT_MAX_HDOP, DEFAULT_MIN_SATELLITES, type FixFilterOptions } from './nmea/fix-filter.js';
import { applyWeekRolloverRule } from './nmea/gps-date.js';
import { LineSplitter } from './nmea/line-splitter.js';
import { defaultNotBefore } from './nmea-source-base.js';

export interface GpsdOptions extends FixFilterOptions {
  /** gpsd runs on the terminal itself; only loopback is accepted. */
  host?: '127.0.0.1' | '::1';
  port?: number;
  notBefore?: Date;
  clock?: Clock;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  logger?: Logger;
}

/** gpsd's SKY report can list dozens of satellites; longer lines are dropped. */
const MAX_GPSD_LINE_BYTES = 65_536;
export const GPSD_WATCH_COMMAND = '?WATCH={"enable":true,"json":true};\n';

interface SkyState {
  hdop?: number;
  satellites?: number;
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Satellites used in the solution, from `uSat` (gpsd 3.23+) or the `used` flags of the list. */
function satellitesUsed(sky: Record<string, unknown>): number | undefined {
  const used = finiteNumber(sky.uSat);
  if (used !== undefined) return used;
  // An empty or missing list means gpsd has not reported satellites yet, not that none are used.
  if (!Array.isArray(sky.satellites) || sky.satellites.length === 0) return undefined;
  return sky.satellites.filter((satellite) => (satellite as { used?: unknown }).used === true).length;
}

/**
 * Fixes from gpsd's JSON protocol: TPV reports with mode 2 (2D) or 3 (3D), with HDOP and the
 * satellite count of the latest SKY report, through the same HDOP and satellite limits and
 * week-rollover rule as the NMEA path. Reconnects with backoff when gpsd goes away.
 */
export class GpsdPositionSource extends EventEmitter<PositionSourceEvents> implements PositionSource {
  private socket: Socket | undefined;
  private running = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelayMs: number;
  private sky: SkyState = {};
  private currentHealth: DeviceHealth = 'unknown';
  private readonly clock: Clock;

  constructor(private readonly options: GpsdOptions = {}) {
    super();
    this.clock = options.clock ?? systemClock;
    this.reconnectDelayMs = options.reconnectInitialMs ?? 500;
  }

  get health(): DeviceHealth {
    return this.currentHealth;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.setHealth('down');
    this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.socket?.destroy();
    this.socket = undefined;
    this.setHealth('down');
  }

  private setHealth(health: DeviceHealth): void {
    if (health === this.currentHealth) return;
    this.currentHealth = health;
    this.emit('health', health);
  }

  private connect(): void {
    const host = this.options.host ?? '127.0.0.1';
    const port = this.options.port ?? 2947;
    const splitter = new LineSplitter({ maxLineBytes: MAX_GPSD_LINE_BYTES });
    const socket = connect({ host, port });
    this.socket = socket;

    socket.on('connect', () => {
      this.reconnectDelayMs = this.options.reconnectInitialMs ?? 500;
      this.options.logger?.info({ host, port }, 'connected to gpsd');
      this.setHealth('degraded');
      socket.write(GPSD_WATCH_COMMAND);
    });
    socket.on('data', (chunk) => {
      for (const line of splitter.push(chunk)) {
        if (line.droppedBytes === undefined) this.handleLine(line.text);
      }
    });
    socket.on('error', (error) => {
      this.options.logger?.warn({ host, port, err: error }, 'gpsd connection failed');
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.setHealth('down');
      if (!this.running) return;
      const delayMs = this.reconnectDelayMs;
      this.reconnectDelayMs = Math.min(delayMs * 2, this.options.reconnectMaxMs ?? 10_000);
      this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
    });
  }

  private handleLine(text: string): void {
    let report: Record<string, unknown>;
    try {
      report = JSON.parse(text) as Record<string, unknown>;
    } catch {
      this.options.logger?.warn({ length: text.length }, 'invalid JSON from gpsd, line skipped');
      return;
    }
    if (report.class === 'SKY') {
      const hdop = finiteNumber(report.hdop);
      const satellites = satellitesUsed(report);
      this.sky = { hdop: hdop ?? this.sky.hdop, satellites: satellites ?? this.sky.satellites };
    } else if (report.class === 'TPV') {
      this.handleTpv(report);
    }
  }

  private handleTpv(tpv: Record<string, unknown>): void {
    const mode = finiteNumber(tpv.mode) ?? 0;
    const lat = finiteNumber(tpv.lat);
    const lon = finiteNumber(tpv.lon);
    if (mode < 2 || lat === undefined || lon === undefined) {
      this.setHealth('degraded');
      return;
    }
    const maxHdop = this.options.maxHdop ?? DEFAULT_MAX_HDOP;
    const minSatellites = this.options.minSatellites ?? DEFAULT_MIN_SATELLITES;
    if (this.sky.hdop !== undefined && this.sky.hdop > maxHdop) return;
    if (this.sky.satellites !== undefined && this.sky.satellites < minSatellites) return;

    let time: Date | null = null;
    if (typeof tpv.time === 'string') {
      const reported = new Date(tpv.time);
      if (!Number.isNaN(reported.getTime())) {
        time = applyWeekRolloverRule(reported, this.options.notBefore ?? defaultNotBefore(), this.clock.now());
      }
    }
    // gpsd status 2 is DGPS; TPV does not say which talker the position came from.
    const fix: GnssFix = { time, lat, lon, talker: 'gpsd', quality: finiteNumber(tpv.status) === 2 ? 2 : 1 };
    const speed = finiteNumber(tpv.speed);
    const track = finiteNumber(tpv.track);
    if (speed !== undefined) fix.speedMps = speed;
    if (track !== undefined) fix.courseDeg = track;
    if (this.sky.hdop !== undefined) fix.hdop = this.sky.hdop;
    if (this.sky.satellites !== undefined) fix.satellites = this.sky.satellites;
    this.setHealth('ok');
    this.emit('fix', fix);
  }
}
