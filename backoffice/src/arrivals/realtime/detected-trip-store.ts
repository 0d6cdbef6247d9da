import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { addDays, serviceDayStart } from '../local-time.js';
import { type ObservedTrip, dayTypeOf } from '../observed-trip.js';

/** One stop time of a detected trip, as the online predictor counts it. */
export interface DetectedStop {
  serviceDate: string;
  vehicleId: string;
  tripId: string;
  routeId: string;
  directionId: number;
  /** Index of the stop in the trip's pattern. */
  stopIndex: number;
  stopId: string;
  /** Unix time in seconds. */
  time: number;
}

/** Raised when the store's file cannot be opened or is not a detected-trip store. */
export class DetectedTripStoreError extends Error {
  override readonly name = 'DetectedTripStoreError';
}

const SCHEMA_VERSION = 1;

interface StopRow {
  service_date: string;
  vehicle_id: string;
  trip_id: string;
  route_id: string;
  direction_id: number;
  stop_id: string;
  time: number;
}

/**
 * The stop times of the trips the online predictor detected, kept in their own SQLite file so the
 * predictor can learn each stop pair's travel times, each bus's pace and each stop's signal phases
 * from the days before. A separate file has its own write lock, so these writes do not queue
 * behind the clearing database's writer.
 */
export class DetectedTripStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[string, string, string, string, number, number, string, number]>;
  private readonly insertAll: (stops: readonly DetectedStop[]) => number;
  /** Inode of the file when it was opened, to notice the file being deleted or replaced. */
  private readonly inode: number;

  constructor(readonly path: string) {
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version !== 0 && version !== SCHEMA_VERSION) throw new Error(`schema version ${version}, expected ${SCHEMA_VERSION}`);
      db.exec(`CREATE TABLE IF NOT EXISTS detected_stops (
        service_date TEXT NOT NULL,
        vehicle_id TEXT NOT NULL,
        trip_id TEXT NOT NULL,
        route_id TEXT NOT NULL,
        direction_id INTEGER NOT NULL,
        stop_index INTEGER NOT NULL,
        stop_id TEXT NOT NULL,
        time REAL NOT NULL,
        PRIMARY KEY (service_date, vehicle_id, trip_id, stop_index)
      ) WITHOUT ROWID`);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      this.insert = db.prepare('INSERT OR IGNORE INTO detected_stops VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    } catch (error) {
      db?.close();
      throw new DetectedTripStoreError(`invalid detected-trip store ${path}: ${error instanceof Error ? error.message : String(error)}; move the file away to start a new one`, { cause: error });
    }
    this.db = db;
    this.inode = statSync(path).ino;
    this.insertAll = this.db.transaction((stops: readonly DetectedStop[]) => {
      let added = 0;
      for (const stop of stops) added += this.insert.run(stop.serviceDate, stop.vehicleId, stop.tripId, stop.routeId, stop.directionId, stop.stopIndex, stop.stopId, stop.time).changes;
      return added;
    });
  }

  /** Stores stop times in one transaction and returns how many were new; one seen before is ignored. */
  append(stops: readonly DetectedStop[]): number {
    return stops.length === 0 ? 0 : this.insertAll(stops);
  }

  /** Returns the trips of the `days` service dates before `serviceDate`, stop times in pattern order. */
  tripsBefore(serviceDate: string, days: number, timeZone: string): ObservedTrip[] {
    return selectTripsBefore(this.db, serviceDate, days, timeZone);
  }

  /** Deletes the stop times of service dates before `serviceDate` and returns how many were deleted. */
  pruneBefore(serviceDate: string): number {
    return this.db.prepare('DELETE FROM detected_stops WHERE service_date < ?').run(serviceDate).changes;
  }

  /**
   * Returns true when no file or another file is at `path`. SQLite keeps writing to the open file
   * after it is deleted, so without this check the stop times would be lost at the next start.
   */
  isDetached(): boolean {
    try {
      return statSync(this.path).ino !== this.inode;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
      throw error;
    }
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Returns the trips of the `days` service dates before `serviceDate` from the store file at `path`,
 * read on a read-only connection of its own, so a thread other than the writer's can read them.
 * Throws DetectedTripStoreError where the file is missing or is not a detected-trip store.
 */
export function readTripsBefore(path: string, serviceDate: string, days: number, timeZone: string): ObservedTrip[] {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version !== SCHEMA_VERSION) throw new Error(`schema version ${version}, expected ${SCHEMA_VERSION}`);
    return selectTripsBefore(db, serviceDate, days, timeZone);
  } catch (error) {
    throw new DetectedTripStoreError(`detected trips not read from ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    db?.close();
  }
}

function selectTripsBefore(db: Database.Database, serviceDate: string, days: number, timeZone: string): ObservedTrip[] {
  const rows = db
    .prepare<[string, string], StopRow>(
      'SELECT service_date, vehicle_id, trip_id, route_id, direction_id, stop_id, time FROM detected_stops WHERE service_date >= ? AND service_date < ? ORDER BY service_date, vehicle_id, trip_id, stop_index',
    )
    .all(addDays(serviceDate, -days), serviceDate);
  const trips: ObservedTrip[] = [];
  const dayStarts = new Map<string, number>();
  let current: ObservedTrip | undefined;
  for (const row of rows) {
    const id = `${row.service_date}/${row.vehicle_id}/${row.trip_id}`;
    if (current?.id !== id) {
      let dayStart = dayStarts.get(row.service_date);
      if (dayStart === undefined) dayStarts.set(row.service_date, (dayStart = serviceDayStart(row.service_date, timeZone)));
      current = { id, routeId: row.route_id, directionId: row.direction_id, vehicleId: row.vehicle_id, serviceDate: row.service_date, dayType: dayTypeOf(row.service_date), dayStart, arrivals: [] };
      trips.push(current);
    }
    // A stop time earlier than the one before it (a clock step on the bus) would give a negative run.
    const last = current.arrivals.at(-1);
    if (last === undefined || row.time > last.time) current.arrivals.push({ stopId: row.stop_id, time: row.time });
  }
  return trips.filter((trip) => trip.arrivals.length >= 2);
}
