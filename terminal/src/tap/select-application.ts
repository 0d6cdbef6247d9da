import { AID, SW, classifyStatusWord, epurse, parseFci, parseTUnionEf15, toHex, TUNION_SFI, EF15_LENGTH, expectOk, type TUnionEf15 } from '@busfare/shared-protocol';
import type { ApduTransport } from '../ports/apdu-transport.js';
import { exchange } from './apdu-exchange.js';

export type SelectionResult =
  | { status: 'selected'; aid: string; medium: 'card' | 'phone'; ef15: TUnionEf15; ef15FromFci: boolean }
  | { status: 'blocked'; sw: number }
  | { status: 'not-found' };

const TUNION_PREFIX = toHex(AID.tunionEp);

/**
 * Finds the T-Union e-purse: PPSE first (a failure there is tolerated, as field readers do), then
 * the instance AID the PPSE lists or the 8-byte T-Union AID. Phone applets answer at instance AIDs
 * longer than 8 bytes; a card selected by such an AID is recorded as a phone. EF15 comes from tag
 * 9F0C of the FCI when present, which saves one READ BINARY.
 */
export async function selectTUnion(card: ApduTransport, counter: { apdus: number }): Promise<SelectionResult> {
  let instanceAid: string | undefined;
  try {
    const ppse = await exchange(card, epurse.selectByName(AID.ppse), counter);
    if (ppse.sw === SW.OK) {
      instanceAid = parseFci(ppse.data).directoryAids.find((aid) => aid.startsWith(TUNION_PREFIX));
    }
  } catch (error) {
    // A PPSE the card garbles is tolerated; transport errors end the tap as usual.
    if (!isDataError(error)) throw error;
  }

  const aid = instanceAid ?? TUNION_PREFIX;
  const response = await exchange(card, epurse.selectByName(Buffer.from(aid, 'hex')), counter);
  const recovery = classifyStatusWord(response.sw);
  if (recovery === 'card-blocked') return { status: 'blocked', sw: response.sw };
  if (response.sw !== SW.OK) return { status: 'not-found' };

  const fci = parseFci(response.data);
  const selectedAid = fci.dfName ?? aid;
  const medium = selectedAid.length > 16 ? 'phone' : 'card';
  if (fci.issuerDiscretionary && fci.issuerDiscretionary.length >= EF15_LENGTH) {
    return { status: 'selected', aid: selectedAid, medium, ef15: parseTUnionEf15(fci.issuerDiscretionary), ef15FromFci: true };
  }
  const ef15 = await exchange(card, epurse.readBinary(TUNION_SFI.ef15, 0, EF15_LENGTH), counter);
  return { status: 'selected', aid: selectedAid, medium, ef15: parseTUnionEf15(expectOk('READ EF15', ef15)), ef15FromFci: false };
}

function isDataError(error: unknown): boolean {
  const name = (error as Error | undefined)?.name;
  return name === 'MalformedResponseError' || name === 'TlvError';
}
