import Database from 'better-sqlite3';
import type { VehicleFix } from '../matching/vehicle-events.js';

/** Reads position fixes from the back office's `positions` table in the order they were stored. */
export interface PositionFeed {
  /** Returns fixes stored after the cursor (at most `limit`) and the cursor to pass next time. */
  readAfter(cursor: number, limit: number): { fixes: VehicleFix[]; cursor: number };
  close(): void;
}

interface PositionRow {
  rowid: number;
  vehicle_id: string;
  time: string;
  lat: number;
  lon: number;
  route: string | null;
  direction: number | null;
  trip_id: string | null;
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
    this.statement = this.db.prepare('SELECT rowid, vehicle_id, time, lat, lon, route, direction, trip_id FROM positions WHERE rowid > ? ORDER BY rowid LIMIT ?');
  }

  readAfter(cursor: number, limit: number): { fixes: VehicleFix[]; cursor: number } {
    const rows = this.statement.all(cursor, limit);
    const fixes = rows.map((row) => {
      const fix: VehicleFix = { vehicleId: row.vehicle_id, time: Date.parse(row.time) / 1000, lat: row.lat, lon: row.lon };
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
