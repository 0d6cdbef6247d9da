import Database from 'better-sqlite3';
import type { VehicleFix } from '../matching/vehicle-events.js';

/**
 * A stored fix with the terminal that sent it and the back office's receive time (Unix seconds),
 * from which ArrivalService estimates the fleet's clock. A feed without them leaves that estimate out.
 */
export interface PositionFix extends VehicleFix {
  terminalId?: string;
  receivedAt?: number;
}

/** Reads position fixes from the back office's `positions` table in the order they were stored. */
export interface PositionFeed {
  /** Returns fixes stored after the cursor (at most `limit`) and the cursor to pass next time. */
  readAfter(cursor: number, limit: number): { fixes: PositionFix[]; cursor: number };
  close(): void;
}

interface PositionRow {
  rowid: number;
  terminal_id: string;
  vehicle_id: string;
  time: string;
  lat: number;
  lon: number;
  route: string | null;
  direction: number | null;
  trip_id: string | null;
  received_at: string;
}

/**
 * A read-only connection to the clearing database that pages through `positions` by rowid. Rows
 * come in storage order, so a late batch is read after earlier ones even if its fixes are older.
 * The trackers drop a fix older than the vehicle's latest.
 */
export class SqlitePositionFeed implements PositionFeed {
  private readonly db: Database.Database;
  private readonly statement: Database.Statement<[number, number], PositionRow>;

  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    this.statement = this.db.prepare('SELECT rowid, terminal_id, vehicle_id, time, lat, lon, route, direction, trip_id, received_at FROM positions WHERE rowid > ? ORDER BY rowid LIMIT ?');
  }

  readAfter(cursor: number, limit: number): { fixes: PositionFix[]; cursor: number } {
    const rows = this.statement.all(cursor, limit);
    // The fixes of one batch share their receive time, so it is parsed once per batch.
    let receivedText = '';
    let receivedAt = Number.NaN;
    const fixes = rows.map((row) => {
      if (row.received_at !== receivedText) {
        receivedText = row.received_at;
        receivedAt = Date.parse(receivedText) / 1000;
      }
      const fix: PositionFix = { vehicleId: row.vehicle_id, time: Date.parse(row.time) / 1000, lat: row.lat, lon: row.lon, terminalId: row.terminal_id };
      if (Number.isFinite(receivedAt)) fix.receivedAt = receivedAt;
      if (row.route !== null) fix.routeId = row.route;
      if (row.direction !== null) fix.directionId = row.direction;
      if (row.trip_id !== null) fix.tripId = row.trip_id;
      return fix;
    });
    return { fixes: fixes.filter((fix) => Number.isFinite(fix.time)), cursor: rows.at(-1)?.rowid ?? cursor };
  }

  close(): void {
    this.db.close();
  }
}
