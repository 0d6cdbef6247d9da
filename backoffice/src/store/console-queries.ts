import type Database from 'better-sqlite3';
import type { StoredTransactionRow } from './clearing-repository.js';

export interface TransactionSearch {
  asn?: string;
  terminalId?: string;
  route?: string;
  /** ISO 8601 instants, inclusive start and exclusive end. */
  from?: string;
  to?: string;
  limit: number;
}

export interface HourlyTaps {
  /** Local hour 0-23. */
  hour: number;
  taps: number;
  amountFen: number;
}

const CLEARED = `(kind = 'purchase' OR (kind = 'resolution' AND outcome = 'debited')) AND verification IN ('verified', 'queued-for-issuer')`;

/** Read queries of the operators' console: transaction search and the dashboard's figures. */
export class SqliteConsoleQueries {
  constructor(private readonly db: Database.Database) {}

  search(filter: TransactionSearch): (StoredTransactionRow & { driverId: string | null; cardCounter: number })[] {
    return this.db
      .prepare<Record<string, string | number | null>, StoredTransactionRow & { driverId: string | null; cardCounter: number }>(`
        SELECT terminal_id AS terminalId, sequence, kind, asn, issuer_id AS issuerId, card_type AS cardType, amount_fen AS amountFen,
          occurred_at AS occurredAt, business_day AS businessDay, verification, resolves_sequence AS resolvesSequence, outcome,
          route, vehicle_id AS vehicleId, received_at AS receivedAt, json_extract(raw_json, '$.trip.driverId') AS driverId,
          json_extract(raw_json, '$.debit.cardCounter') AS cardCounter
        FROM transactions
        WHERE (@asn IS NULL OR asn = @asn) AND (@terminalId IS NULL OR terminal_id = @terminalId) AND (@route IS NULL OR route = @route)
          AND (@from IS NULL OR occurred_at >= @from) AND (@to IS NULL OR occurred_at < @to)
        ORDER BY occurred_at DESC, terminal_id, sequence DESC LIMIT @limit`)
      .all({
        asn: filter.asn ?? null,
        terminalId: filter.terminalId ?? null,
        route: filter.route ?? null,
        from: filter.from ?? null,
        to: filter.to ?? null,
        limit: filter.limit,
      });
  }

  /** Cleared taps and money per local hour of one business day. */
  hourly(day: string, timezoneOffsetMinutes: number): HourlyTaps[] {
    const rows = this.db
      .prepare<[string], { occurredAt: string; amountFen: number }>(`SELECT occurred_at AS occurredAt, amount_fen AS amountFen FROM transactions WHERE business_day = ? AND ${CLEARED}`)
      .all(day);
    const hours: HourlyTaps[] = Array.from({ length: 24 }, (_, hour) => ({ hour, taps: 0, amountFen: 0 }));
    for (const row of rows) {
      const hour = new Date(Date.parse(row.occurredAt) + timezoneOffsetMinutes * 60_000).getUTCHours();
      const slot = hours[hour] as HourlyTaps;
      slot.taps += 1;
      slot.amountFen += row.amountFen;
    }
    return hours;
  }

  /** The latest position of each terminal, for the fleet map. */
  latestPositions(): { terminalId: string; vehicleId: string; time: string; lat: number; lon: number; route: string | null }[] {
    return this.db
      .prepare<[], { terminalId: string; vehicleId: string; time: string; lat: number; lon: number; route: string | null }>(`
        SELECT p.terminal_id AS terminalId, p.vehicle_id AS vehicleId, p.time, p.lat, p.lon, p.route FROM positions p
        WHERE p.time = (SELECT MAX(time) FROM positions q WHERE q.terminal_id = p.terminal_id) ORDER BY p.terminal_id`)
      .all();
  }
}
