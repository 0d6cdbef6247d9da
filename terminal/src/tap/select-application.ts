import {
  AID,
  EF15_LENGTH,
  SW,
  TUNION_SFI,
  classifyStatusWord,
  epurse,
  expectOk,
  mohurdIssuerFactor,
  parseFci,
  parseMohurdEf15,
  parseTUnionEf15,
  toHex,
  type TUnionEf15,
} from '@busfare/shared-protocol';
import type { ApduTransport } from '../ports/apdu-transport.js';
import { exchange } from './apdu-exchange.js';

export type PurseApplicationKind = 'tunion' | 'mohurd';

/** What the tap needs from the selected application's EF15, whichever layout it has. */
export interface PurseCardFacts {
  asn: string;
  /**
   * Issuer id as records carry it: EF15 bytes 0-7 on T-Union cards; on MOHURD cards the PSAM's
   * second diversification factor (city code, FF 00 00 00 00 00), which selects the issuer keys.
   */
  issuerId: string;
  /** Second diversification factor for the PSAM (8 bytes, hex). */
  issuerFactor: string;
  cardTypeCode: number;
  startDate: string;
  expiryDate: string;
}

export type PurseSelection =
  | { status: 'selected'; application: PurseApplicationKind; aid: string; medium: 'card' | 'phone'; facts: PurseCardFacts; ef15FromFci: boolean; tunionEf15?: TUnionEf15 }
  | { status: 'blocked'; application: PurseApplicationKind; sw: number }
  | { status: 'not-found' };

export interface PurseSelectionOptions {
  /** Which application to debit on a card that has both. Default 'tunion'. */
  preferred?: PurseApplicationKind;
  /** Applications the terminal accepts. Default both. */
  accepted?: readonly PurseApplicationKind[];
}

const TUNION_PREFIX = toHex(AID.tunionEp);
const MOHURD_AID = toHex(AID.mohurdEp);
const DEFAULT_AID: Record<PurseApplicationKind, string> = { tunion: TUNION_PREFIX, mohurd: MOHURD_AID };

/**
 * Finds the e-purse to debit: the PPSE first (a failure there is tolerated, as field readers
 * do); then the applications it lists, the preferred one first; then the T-Union and MOHURD AIDs
 * the PPSE did not list, in order of preference. Phone applets answer at instance AIDs longer
 * than 8 bytes, and a purse selected by such an AID is recorded as a phone. EF15 comes from tag
 * 9F0C of the FCI when present, which saves one READ BINARY.
 */
export async function selectPurseApplication(card: ApduTransport, counter: { apdus: number }, options: PurseSelectionOptions = {}): Promise<PurseSelection> {
  const preferred = options.preferred ?? 'tunion';
  const accepted = options.accepted ?? ['tunion', 'mohurd'];
  const order = [preferred, ...(['tunion', 'mohurd'] as const).filter((kind) => kind !== preferred)].filter((kind) => accepted.includes(kind));

  const listed = await readDirectory(card, counter);
  const candidates: { kind: PurseApplicationKind; aid: string }[] = [];
  for (const kind of order) {
    const aid = listed.find((entry) => applicationOf(entry) === kind);
    if (aid) candidates.push({ kind, aid });
  }
  for (const kind of order) {
    if (!candidates.some((candidate) => candidate.kind === kind)) candidates.push({ kind, aid: DEFAULT_AID[kind] });
  }

  for (const candidate of candidates) {
    const response = await exchange(card, epurse.selectByName(Buffer.from(candidate.aid, 'hex')), counter);
    if (classifyStatusWord(response.sw) === 'card-blocked') return { status: 'blocked', application: candidate.kind, sw: response.sw };
    if (response.sw !== SW.OK) continue;
    const fci = parseFci(response.data);
    const selectedAid = fci.dfName ?? candidate.aid;
    const medium = candidate.kind === 'tunion' && selectedAid.length > 16 ? 'phone' : 'card';
    let ef15 = fci.issuerDiscretionary && fci.issuerDiscretionary.length >= EF15_LENGTH ? fci.issuerDiscretionary : undefined;
    const ef15FromFci = ef15 !== undefined;
    if (!ef15) ef15 = expectOk('READ EF15', await exchange(card, epurse.readBinary(TUNION_SFI.ef15, 0, EF15_LENGTH), counter));
    if (candidate.kind === 'tunion') {
      const tunionEf15 = parseTUnionEf15(ef15);
      const facts = { asn: tunionEf15.asn, issuerId: tunionEf15.issuerId, issuerFactor: tunionEf15.issuerId, ...pick(tunionEf15) };
      return { status: 'selected', application: 'tunion', aid: selectedAid, medium, facts, ef15FromFci, tunionEf15 };
    }
    const mohurdEf15 = parseMohurdEf15(ef15);
    const factor = mohurdIssuerFactor(mohurdEf15.cityCode);
    const facts = { asn: mohurdEf15.asn, issuerId: factor, issuerFactor: factor, ...pick(mohurdEf15) };
    return { status: 'selected', application: 'mohurd', aid: selectedAid, medium, facts, ef15FromFci };
  }
  return { status: 'not-found' };
}

export type SelectionResult =
  | { status: 'selected'; aid: string; medium: 'card' | 'phone'; ef15: TUnionEf15; ef15FromFci: boolean }
  | { status: 'blocked'; sw: number }
  | { status: 'not-found' };

/** Selects the T-Union e-purse only, for readers that look at T-Union cards (card inspection). */
export async function selectTUnion(card: ApduTransport, counter: { apdus: number }): Promise<SelectionResult> {
  const selection = await selectPurseApplication(card, counter, { accepted: ['tunion'] });
  if (selection.status !== 'selected') return selection.status === 'blocked' ? { status: 'blocked', sw: selection.sw } : selection;
  return { status: 'selected', aid: selection.aid, medium: selection.medium, ef15: selection.tunionEf15!, ef15FromFci: selection.ef15FromFci };
}

async function readDirectory(card: ApduTransport, counter: { apdus: number }): Promise<string[]> {
  try {
    const ppse = await exchange(card, epurse.selectByName(AID.ppse), counter);
    if (ppse.sw !== SW.OK) return [];
    return parseFci(ppse.data).directoryAids;
  } catch (error) {
    // A PPSE the card garbles is tolerated; transport errors end the tap as usual.
    if (!isDataError(error)) throw error;
    return [];
  }
}

function applicationOf(aid: string): PurseApplicationKind | undefined {
  if (aid.startsWith(TUNION_PREFIX)) return 'tunion';
  if (aid.startsWith(MOHURD_AID)) return 'mohurd';
  return undefined;
}

function pick(ef15: { cardTypeCode: number; startDate: string; expiryDate: string }) {
  return { cardTypeCode: ef15.cardTypeCode, startDate: ef15.startDate, expiryDate: ef15.expiryDate };
}

function isDataError(error: unknown): boolean {
  const name = (error as Error | undefined)?.name;
  return name === 'MalformedResponseError' || name === 'TlvError';
}
