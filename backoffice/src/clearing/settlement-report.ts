import type { SettlementItem, StoredShift } from '../store/settlement-store.js';
import { isLocalIssuer, partnerCityOf } from './partners.js';

/** Count and money of one group of settled items, in fen. */
export interface SettlementLine {
  key: string;
  count: number;
  /** Amount taken from the cards (discounted fares). */
  amountFen: number;
  /** Full fares before discounts. */
  listFareFen: number;
  discountFen: number;
}

/**
 * What the city and one partner city owe each other for the day. Receivable: fares taken from
 * the partner's cards on the city's buses, which the partner's clearing pays to the city.
 */
export interface PartnerBalance {
  partnerCity: string;
  count: number;
  receivableFen: number;
  /** Fares taken from the city's cards in the partner city, owed to the partner. */
  payableFen: number;
  netFen: number;
}

export interface LateItem {
  terminalId: string;
  sequence: number;
  businessDay: string;
  amountFen: number;
}

export interface SettlementReport {
  businessDay: string;
  state: 'settled' | 'preview';
  settledAt?: string;
  settledBy?: string;
  totals: Omit<SettlementLine, 'key'>;
  /** Items whose own business day was already settled, or that waited for an issuer's answer. */
  late: { count: number; amountFen: number; items: LateItem[] };
  awaitingIssuer: { count: number; amountFen: number; byPartner: { partnerCity: string; count: number; amountFen: number }[] };
  byIssuerGroup: SettlementLine[];
  byIssuer: SettlementLine[];
  partners: PartnerBalance[];
  byOperator: SettlementLine[];
  byRoute: SettlementLine[];
  byVehicle: SettlementLine[];
  byTerminal: SettlementLine[];
  byShift: SettlementLine[];
  byCardType: SettlementLine[];
  adjustments: SettlementLine[];
}

export interface ReportInputs {
  businessDay: string;
  items: readonly SettlementItem[];
  awaitingIssuer: readonly { issuerId: string; amountFen: number }[];
  localIssuerPrefixes: readonly string[];
  operatorOfVehicle: ReadonlyMap<string, string>;
  shifts: readonly StoredShift[];
}

/** Key of items an operator or shift table does not cover. */
export const UNASSIGNED = '-';

/** Groups settled items by every dimension the finance reports need. */
export function buildSettlementReport(inputs: ReportInputs): SettlementReport {
  const fares = inputs.items.filter((item) => item.source !== 'adjustment');
  const adjustments = inputs.items.filter((item) => item.source === 'adjustment');
  const shiftOf = shiftLookup(inputs.shifts);
  const local = (item: SettlementItem) => isLocalIssuer(item.issuerId, inputs.localIssuerPrefixes);

  const partners = groupLines(fares.filter((item) => !local(item)), (item) => partnerCityOf(item.issuerId)).map((line) => ({
    partnerCity: line.key,
    count: line.count,
    receivableFen: line.amountFen,
    // NOTE: payables need the partners' files of the city's cards used elsewhere, which are not imported yet.
    payableFen: 0,
    netFen: line.amountFen,
  }));

  const awaitingByPartner = new Map<string, { partnerCity: string; count: number; amountFen: number }>();
  for (const row of inputs.awaitingIssuer) {
    const partnerCity = partnerCityOf(row.issuerId);
    const entry = awaitingByPartner.get(partnerCity) ?? { partnerCity, count: 0, amountFen: 0 };
    entry.count += 1;
    entry.amountFen += row.amountFen;
    awaitingByPartner.set(partnerCity, entry);
  }

  const lateItems = inputs.items.filter((item) => item.businessDay < inputs.businessDay);
  return {
    businessDay: inputs.businessDay,
    state: 'preview',
    totals: totalsOf(inputs.items),
    late: {
      count: lateItems.length,
      amountFen: sum(lateItems),
      items: lateItems.map(({ terminalId, sequence, businessDay, amountFen }) => ({ terminalId, sequence, businessDay, amountFen })),
    },
    awaitingIssuer: {
      count: inputs.awaitingIssuer.length,
      amountFen: inputs.awaitingIssuer.reduce((total, row) => total + row.amountFen, 0),
      byPartner: [...awaitingByPartner.values()].sort((a, b) => a.partnerCity.localeCompare(b.partnerCity)),
    },
    byIssuerGroup: groupLines(fares, (item) => (local(item) ? 'local' : `out-of-town:${partnerCityOf(item.issuerId)}`)),
    byIssuer: groupLines(fares, (item) => item.issuerId),
    partners,
    byOperator: groupLines(fares, (item) => inputs.operatorOfVehicle.get(item.vehicleId) ?? UNASSIGNED),
    byRoute: groupLines(fares, (item) => item.route ?? UNASSIGNED),
    byVehicle: groupLines(fares, (item) => item.vehicleId),
    byTerminal: groupLines(fares, (item) => item.terminalId),
    byShift: groupLines(fares, (item) => {
      const shift = shiftOf(item.terminalId, item.sequence);
      return shift ? `${shift.shiftId}/${shift.driverId}` : `${item.terminalId}/${item.driverId ?? UNASSIGNED}`;
    }),
    byCardType: groupLines(fares, (item) => item.cardType),
    adjustments: groupLines(adjustments, (item) => item.cardType),
  };
}

function sum(items: readonly SettlementItem[]): number {
  return items.reduce((total, item) => total + item.amountFen, 0);
}

function totalsOf(items: readonly SettlementItem[]): Omit<SettlementLine, 'key'> {
  const amountFen = sum(items);
  const listFareFen = items.reduce((total, item) => total + item.listFareFen, 0);
  return { count: items.length, amountFen, listFareFen, discountFen: listFareFen - amountFen };
}

function groupLines(items: readonly SettlementItem[], keyOf: (item: SettlementItem) => string): SettlementLine[] {
  const groups = new Map<string, SettlementItem[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.entries()].map(([key, group]) => ({ key, ...totalsOf(group) })).sort((a, b) => a.key.localeCompare(b.key));
}

/** Finds the shift whose sequence range holds a terminal's record. */
function shiftLookup(shifts: readonly StoredShift[]): (terminalId: string, sequence: number) => StoredShift | undefined {
  const byTerminal = new Map<string, StoredShift[]>();
  for (const shift of shifts) {
    if (shift.firstSequence === null) continue;
    const list = byTerminal.get(shift.terminalId) ?? [];
    list.push(shift);
    byTerminal.set(shift.terminalId, list);
  }
  return (terminalId, sequence) =>
    byTerminal.get(terminalId)?.find((shift) => (shift.firstSequence ?? Infinity) <= sequence && sequence <= (shift.lastSequence ?? -Infinity));
}
