import {
  EF1E_RECORD_LENGTH,
  MOHURD_SFI,
  MOHURD_TRANSIT_RECORD_ID,
  SW,
  TUNION_SFI,
  encodeTransitRecord,
  epurse,
  isEmptyRecord,
  parseCardDateTime,
  parseTransitRecord,
} from '@busfare/shared-protocol';
import type { ApduTransport } from '../ports/apdu-transport.js';
import { exchange } from './apdu-exchange.js';
import type { CardBoarding } from './fare-decision.js';
import type { PurseApplicationKind } from './select-application.js';

/**
 * EF1E record types this reader writes (per the Mianyang reader): 03 EP boarding, 04 EP alighting,
 * 06 EP single trip. A flat-fare tap writes 06 only when it closes an open boarding.
 */
export const TRANSIT_RECORD_TYPE = { boarding: 0x03, alighting: 0x04, single: 0x06 } as const;
/** Industry code of buses in the transit record. */
const BUS_INDUSTRY = 0x02;

/**
 * Where a bus writes its transit record with UPDATE CAPP DATA CACHE: the T-Union cyclic EF1E
 * (P1 00, read back as record 1, the newest), or MOHURD EF17 record 02. Both take the 48-byte
 * EF1E layout here; the MOHURD record content is operator-defined, and this reader writes the
 * same fields so one parser reads both.
 */
function location(application: PurseApplicationKind): { sfi: number; updateP1: number; readRecord: number } {
  return application === 'tunion'
    ? { sfi: TUNION_SFI.ef1e, updateP1: 0x00, readRecord: 1 }
    : { sfi: MOHURD_SFI.ef17, updateP1: MOHURD_TRANSIT_RECORD_ID, readRecord: MOHURD_TRANSIT_RECORD_ID };
}

/**
 * Line and station field (7 bytes): route code (4 bytes: the route id as BCD when it is up to 8
 * digits, otherwise a 32-bit hash of it), stop index (2 bytes, FFFF when unknown), direction
 * (1 byte, 00 or 01). The field is city-specific; this layout is the project's own. Records that
 * readers wrote before the direction byte carry 00 there and read as direction 0.
 */
function lineStation(route: string, stopIndex: number | undefined, direction: 0 | 1): string {
  const code = /^\d{1,8}$/.test(route) ? route.padStart(8, '0') : fnv32(route).toString(16).padStart(8, '0');
  const stop = stopIndex === undefined || !Number.isInteger(stopIndex) || stopIndex < 0 || stopIndex >= 0xffff ? 'FFFF' : stopIndex.toString(16).padStart(4, '0');
  return `${code}${stop}0${direction}`.toUpperCase();
}

export interface TransitRecordInput {
  application: PurseApplicationKind;
  journey: 'boarding' | 'alighting' | 'single';
  terminalNumber: string;
  route: string;
  stopIndex?: number;
  direction?: 0 | 1;
  amountFen: number;
  balanceAfterFen: number;
  cardDateTime: string;
  acquirerCityCode: string;
  maxIncompleteAmountFen: number;
  maxJourneyMinutes: number;
}

/** UPDATE CAPP DATA CACHE carrying this tap's transit record. */
export function transitRecordUpdate(input: TransitRecordInput): Uint8Array {
  const record = encodeTransitRecord({
    recordType: TRANSIT_RECORD_TYPE[input.journey],
    terminalNumber: input.terminalNumber,
    industryCode: BUS_INDUSTRY,
    lineStation: lineStation(input.route, input.stopIndex, input.direction ?? 0),
    amountFen: input.amountFen,
    balanceAfterFen: input.balanceAfterFen,
    dateTime: input.cardDateTime,
    acquirerCityCode: input.acquirerCityCode,
    acquirerId: '0',
    maxIncompleteAmountFen: input.maxIncompleteAmountFen,
    maxJourneyMinutes: input.maxJourneyMinutes,
  });
  const where = location(input.application);
  return epurse.updateCappDataCache(where.sfi, where.updateP1, record);
}

/**
 * Reads the card's last transit record and returns its boarding when it is an open bus boarding
 * that this reader can read. Any other last record (an alighting, a single trip, another industry's
 * record, an empty slot) means the card has no open boarding.
 */
export async function readCardBoarding(card: ApduTransport, counter: { apdus: number }, application: PurseApplicationKind, utcOffsetMinutes: number): Promise<CardBoarding | undefined> {
  const where = location(application);
  const response = await exchange(card, epurse.readRecord(where.sfi, where.readRecord, EF1E_RECORD_LENGTH), counter);
  if (response.sw !== SW.OK || response.data.length !== EF1E_RECORD_LENGTH || isEmptyRecord(response.data)) return undefined;
  const record = parseTransitRecord(response.data);
  if (record.recordType !== TRANSIT_RECORD_TYPE.boarding || record.industryCode !== BUS_INDUSTRY) return undefined;
  let boardedAt: Date;
  try {
    boardedAt = parseCardDateTime(record.dateTime, utcOffsetMinutes);
  } catch {
    return undefined;
  }
  const stop = record.lineStation.slice(8, 12);
  const boarding: CardBoarding = {
    routeCode: record.lineStation.slice(0, 8),
    direction: record.lineStation.slice(12, 14) === '01' ? 1 : 0,
    boardedAt,
    amountFen: record.amountFen,
    missingTapOffFen: record.maxIncompleteAmountFen,
  };
  if (stop !== 'FFFF') boarding.stopIndex = Number.parseInt(stop, 16);
  return boarding;
}

/** The route code a transit record carries for this route id, to compare with a read boarding. */
export function routeCode(route: string): string {
  return lineStation(route, undefined, 0).slice(0, 8);
}

function fnv32(text: string): number {
  let hash = 0x811c9dc5;
  for (const char of Buffer.from(text, 'utf8')) hash = Math.imul(hash ^ char, 0x01000193) >>> 0;
  return hash;
}
