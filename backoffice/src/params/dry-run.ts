import {
  MemoryRecentTaps,
  cardTypeSchema,
  decideFare,
  type CardType,
  type FareTableBody,
  type RouteStopLookup,
  type TapKind,
} from '@busfare/shared-protocol';
import { columnReader, formatCsvRow, readCsvTable } from '../csv/csv-table.js';

export const DRY_RUN_INPUT_COLUMNS = ['time', 'vehicle', 'cardNumber', 'cardType', 'balanceFen', 'route', 'direction', 'stop', 'tapKind'] as const;
export const DRY_RUN_OUTPUT_COLUMNS = ['fareFen', 'balanceAfterFen', 'promptId', 'reason'] as const;

/** Taps that cannot be priced, each problem with its line number. */
export class TapFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid taps: ${problems.join('; ')}`);
  }
}

interface SampleTap {
  line: number;
  fields: string[];
  time: string;
  vehicle: string;
  cardNumber: string;
  cardType: CardType;
  balanceFen?: number;
  route: string;
  direction?: 0 | 1;
  stop?: string;
  tapKind: TapKind;
}

const TIME_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Reads and checks every sample tap; throws TapFileError listing every problem found. */
export function readSampleTaps(csv: string | Uint8Array): { header: string[]; taps: SampleTap[] } {
  const table = readCsvTable(csv);
  const problems: string[] = [];
  const missing = DRY_RUN_INPUT_COLUMNS.filter((column) => !table.header.includes(column));
  if (missing.length > 0) throw new TapFileError([`header: missing column(s) ${missing.join(', ')}; expected ${DRY_RUN_INPUT_COLUMNS.join(',')}`]);

  const field = columnReader(table);
  const taps: SampleTap[] = [];
  const seenCards = new Set<string>();
  table.rows.forEach((row, index) => {
    const line = table.lines[index]!;
    const rowProblems: string[] = [];
    const time = field(row, 'time');
    if (!TIME_WITH_OFFSET.test(time) || Number.isNaN(Date.parse(time))) rowProblems.push(`time "${time}" is not ISO 8601 with a UTC offset`);
    const cardNumber = field(row, 'cardNumber');
    if (cardNumber === '') rowProblems.push('cardNumber is empty');
    const cardType = cardTypeSchema.safeParse(field(row, 'cardType'));
    if (!cardType.success) rowProblems.push(`cardType "${field(row, 'cardType')}" is not one of ${cardTypeSchema.options.join(', ')}`);
    const balanceText = field(row, 'balanceFen');
    let balanceFen: number | undefined;
    if (balanceText === '') {
      if (!seenCards.has(cardNumber)) rowProblems.push(`balanceFen is empty on the first row of card ${cardNumber}`);
    } else if (!/^\d+$/.test(balanceText)) rowProblems.push(`balanceFen "${balanceText}" is not a whole number of fen`);
    else balanceFen = Number(balanceText);
    const vehicle = field(row, 'vehicle');
    if (vehicle === '') rowProblems.push('vehicle is empty');
    const route = field(row, 'route');
    if (route === '') rowProblems.push('route is empty');
    const directionText = field(row, 'direction');
    if (directionText !== '' && directionText !== '0' && directionText !== '1') rowProblems.push(`direction "${directionText}" is not 0 or 1`);
    const tapKind = field(row, 'tapKind');
    if (tapKind !== 'on' && tapKind !== 'off' && tapKind !== 'single') rowProblems.push(`tapKind "${tapKind}" is not on, off or single`);
    seenCards.add(cardNumber);

    if (rowProblems.length > 0) {
      problems.push(...rowProblems.map((problem) => `line ${line}: ${problem}`));
      return;
    }
    const tap: SampleTap = { line, fields: row, time, vehicle, cardNumber, cardType: cardType.data!, route, tapKind: tapKind as TapKind };
    if (balanceFen !== undefined) tap.balanceFen = balanceFen;
    if (directionText !== '') tap.direction = Number(directionText) as 0 | 1;
    const stop = field(row, 'stop');
    if (stop !== '') tap.stop = stop;
    taps.push(tap);
  });
  if (problems.length > 0) throw new TapFileError(problems);
  return { header: table.header, taps };
}

/**
 * Prices sample taps in file order with the terminal's fare engine, as terminals would. A row
 * that leaves balanceFen empty takes the card's balance after its previous row. Each card's
 * accepted taps are remembered for the repeat-tap, companion, transfer and tap-off rules.
 * Returns the input CSV with fareFen, balanceAfterFen, promptId and reason appended. A refused tap
 * has fareFen 0 and an unchanged balance.
 * NOTE: taps of one card on different vehicles share one memory here, as if every terminal could
 * read the card's previous trip; a terminal sees only its own taps plus what the card records.
 */
export function dryRunTaps(table: FareTableBody, csv: string | Uint8Array, routeStops?: RouteStopLookup): string {
  const { header, taps } = readSampleTaps(csv);
  const recent = new MemoryRecentTaps({ maxCards: Math.max(1, taps.length) });
  const balances = new Map<string, number>();
  const lines = [formatCsvRow([...header, ...DRY_RUN_OUTPUT_COLUMNS])];

  for (const tap of taps) {
    const balanceFen = tap.balanceFen ?? balances.get(tap.cardNumber)!;
    const decision = decideFare({
      card: { asn: tap.cardNumber, cardType: tap.cardType, balanceFen },
      table,
      trip: { vehicleId: tap.vehicle, route: tap.route, direction: tap.direction, stopId: tap.stop, time: tap.time, tapKind: tap.tapKind },
      recentTaps: recent.recent(tap.cardNumber),
      routeStops,
    });
    const fareFen = decision.kind === 'charge' ? decision.amountFen : 0;
    const balanceAfterFen = balanceFen - fareFen;
    if (decision.kind === 'charge') recent.remember(tap.cardNumber, decision.remember);
    balances.set(tap.cardNumber, balanceAfterFen);
    const fields = header.map((_, position) => tap.fields[position] ?? '');
    lines.push(formatCsvRow([...fields, fareFen, balanceAfterFen, decision.promptId, decision.reason]));
  }
  return `${lines.join('\n')}\n`;
}
