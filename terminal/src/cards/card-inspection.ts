import {
  type CatalogueEntry,
  EF18_RECORD_LENGTH,
  EF1E_RECORD_LENGTH,
  SW,
  TUNION_SFI,
  TranslatedError,
  cliTextEntry,
  epurse,
  isEmptyRecord,
  parsePurseLogRecord,
  parseTransitRecord,
  type PurseLogRecord,
  type TUnionEf15,
  type TransitRecord,
} from '@busfare/shared-protocol';
import type { ApduTransport } from '../ports/apdu-transport.js';
import { exchange } from '../tap/apdu-exchange.js';
import { selectTUnion } from '../tap/select-application.js';

/** Cyclic records read from each log file; T-Union cards keep 10 in EF18 and a few in EF1E. */
const MAX_RECORDS = 10;

/** What a read-only look at a T-Union card or phone applet returns. */
export interface CardInspection {
  aid: string;
  medium: 'card' | 'phone';
  ef15: TUnionEf15;
  balanceFen: number;
  /** Purse log (EF18), newest first. */
  purseLog: PurseLogRecord[];
  /** Transit process records (EF1E), newest first. */
  transitRecords: TransitRecord[];
  /** APDUs exchanged. */
  apdus: number;
}

/** Why a card cannot be inspected: its e-purse is blocked, or it has no T-Union e-purse. */
export type CardInspectionFailure = 'application-blocked' | 'no-e-purse';

/** The card has no readable T-Union e-purse, or it is blocked. textIn returns the reason in the operator's language. */
export class CardInspectionError extends TranslatedError {
  constructor(
    readonly failure: CardInspectionFailure,
    text: CatalogueEntry,
  ) {
    super(text);
    this.name = 'CardInspectionError';
  }
}

/**
 * Reads a card without changing it: selects the e-purse, reads EF15, GET BALANCE, the purse log
 * (EF18) and the transit records (EF1E). Transport errors (CardIoError, ReaderIoError) pass through.
 */
export async function inspectCard(card: ApduTransport): Promise<CardInspection> {
  const counter = { apdus: 0 };
  const selection = await selectTUnion(card, counter);
  if (selection.status === 'blocked') {
    throw new CardInspectionError('application-blocked', cliTextEntry('cli.readCard.applicationBlocked', { sw: selection.sw.toString(16).toUpperCase() }));
  }
  if (selection.status === 'not-found') throw new CardInspectionError('no-e-purse', cliTextEntry('cli.readCard.noEpurse'));

  const balance = await exchange(card, epurse.getBalance(0x00), counter);
  const balanceFen = epurse.parseBalance(balance);
  const purseLog = (await readCyclicRecords(card, counter, TUNION_SFI.ef18, EF18_RECORD_LENGTH)).map(parsePurseLogRecord);
  const transitRecords = (await readCyclicRecords(card, counter, TUNION_SFI.ef1e, EF1E_RECORD_LENGTH)).map(parseTransitRecord);
  return { aid: selection.aid, medium: selection.medium, ef15: selection.ef15, balanceFen, purseLog, transitRecords, apdus: counter.apdus };
}

/** Reads records 1, 2, ... until the card answers other than 9000 (6A83: no such record) or a record is empty. */
async function readCyclicRecords(card: ApduTransport, counter: { apdus: number }, sfi: number, length: number): Promise<Uint8Array[]> {
  const records: Uint8Array[] = [];
  for (let number = 1; number <= MAX_RECORDS; number += 1) {
    const response = await exchange(card, epurse.readRecord(sfi, number, length), counter);
    if (response.sw !== SW.OK || isEmptyRecord(response.data)) break;
    records.push(response.data);
  }
  return records;
}
