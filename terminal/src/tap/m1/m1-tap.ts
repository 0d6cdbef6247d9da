import {
  M1_ENABLE_FLAG,
  M1_LAYOUT,
  TRANSACTION_TYPE,
  encodeM1Issuance,
  expectOk,
  formatCardDateTime,
  m1CardNumber,
  m1IssuerId,
  mifare,
  parseM1Issuance,
  toHex,
  type CardIdentity,
  type FareTableBody,
  type M1Issuance,
  type RecentTaps,
  type RouteStopLookup,
  type TripContext,
} from '@busfare/shared-protocol';
import type { Logger } from 'pino';
import type { CardSession } from '../../ports/card-reader.js';
import type { Clock } from '../../ports/clock.js';
import type { SecureAccessModule } from '../../ports/secure-access-module.js';
import type { TransactionStore } from '../../store/transaction-store.js';
import { exchange } from '../apdu-exchange.js';
import type { CardLockLog } from '../card-blocking.js';
import { acceptedPromptId, decideTapFare, readsCardBoarding } from '../fare-decision.js';
import type { TapResult } from '../tap-outcome.js';
import { M1CardIo } from './m1-card-io.js';
import { decideM1InDoubt } from './m1-in-doubt.js';
import { type TripBoarding, boardingStage, readTripBoarding } from './m1-journey.js';
import { purchaseFromM1Purse } from './m1-purchase.js';
import { M1PurseDamagedError, readAndRepairPurse } from './m1-purse.js';
import { type M1SecureAccess, supportsM1 } from './m1-secure-access.js';

export interface M1TapContext {
  sam: SecureAccessModule;
  store: TransactionStore;
  clock: Clock;
  logger: Logger;
  onRecord?: () => void;
  utcOffsetMinutes: number;
  /** Runs a card step, turning card I/O errors and refused pseudo-APDUs into a tap result. */
  step: <T>(action: () => Promise<T>) => Promise<T>;
  fareTable: FareTableBody;
  trip: TripContext;
  /** Whether the card number is on the active blacklist. */
  isBlacklisted: (asn: string) => boolean;
  recentTaps: RecentTaps;
  stopIndex?: number;
  /** Stop order of tap-on/tap-off routes whose fare table rules list no stops. */
  routeStops?: RouteStopLookup;
  lockLog?: CardLockLog;
}

/** Sectors whose keys a tap needs: issuance, purse, the three record sectors and the boarding record. */
const TAP_SECTORS = [M1_LAYOUT.issuanceSector, M1_LAYOUT.purseSector, ...M1_LAYOUT.recordSectors, M1_LAYOUT.boardingSector];

const ENABLE_FLAG_REFUSALS: Record<number, { promptId: TapResult['promptId']; reason: string }> = {
  [M1_ENABLE_FLAG.notEnabled]: { promptId: 'invalid-card', reason: 'M1 card not enabled (enable flag 01)' },
  [M1_ENABLE_FLAG.stopped]: { promptId: 'invalid-card', reason: 'M1 card stopped (enable flag 03)' },
  [M1_ENABLE_FLAG.blacklisted]: { promptId: 'card-blacklisted', reason: 'M1 card blacklisted (enable flag 04)' },
};

/**
 * Runs the tap of a MIFARE Classic purse. The steps, in order:
 * 1. the UID, from the reader's card event, else GET UID;
 * 2. the sector keys from the PSAM;
 * 3. the issuance block (card number, type, validity, enable flag);
 * 4. the purse sector in one READ BINARY, repaired, with a torn debit finished;
 * 5. an open in-doubt record of this card, settled;
 * 6. the boarding record in one READ BINARY, for fare tables with a tap-on/tap-off route;
 * 7. the fare decision, enable flag 04 on a blacklisted card, and the debit.
 * A clean tap on a flat-fare table takes 14 card APDUs (2 of them during the PSAM MAC) and 2 PSAM
 * APDUs. On a tap-on/tap-off route the boarding is a composite debit of any missing tap-off charge
 * (usually zero) whose boarding record is written before the debit's commit. The alighting is a
 * composite debit of the band fare, whose raised purse counter closes the boarding.
 * docs/m1-card-layout.md lists the APDUs of each tap.
 */
export async function runM1Tap(session: CardSession, counter: { apdus: number }, context: M1TapContext): Promise<TapResult> {
  const { sam, store, step } = context;
  const application = 'm1' as const;
  if (!supportsM1(sam)) return { status: 'failed', promptId: 'terminal-fault', reason: 'the PSAM cannot derive MIFARE Classic keys', application };

  // A reader that read the UID at the card's arrival reports it with the card, so the tap does not ask again.
  const uid = session.uid?.slice() ?? (await step(async () => expectOk('GET UID', await exchange(session, mifare.getUid(), counter)).slice()));
  if (uid.length !== 4 && uid.length !== 7) return { status: 'refused', promptId: 'invalid-card', reason: `UID of ${uid.length} bytes; a MIFARE Classic UID has 4 or 7`, application };
  const keys = await sam.deriveM1Keys(uid, TAP_SECTORS);
  const io = new M1CardIo(session, counter, new Map(TAP_SECTORS.map((sector, index) => [sector, keys[index]!])));

  const issuance = await step(async () => parseM1Issuance(await io.readBlock(M1_LAYOUT.issuanceBlock)));
  const asn = m1CardNumber(issuance);
  const flagRefusal = issuance.enableFlag === M1_ENABLE_FLAG.normal ? undefined : (ENABLE_FLAG_REFUSALS[issuance.enableFlag] ?? { promptId: 'invalid-card' as const, reason: `unknown M1 enable flag ${issuance.enableFlag}` });
  if (flagRefusal) return { status: 'refused', ...flagRefusal, asn, application };

  let purse;
  try {
    purse = await step(() => readAndRepairPurse(io));
  } catch (error) {
    if (!(error instanceof M1PurseDamagedError)) throw error;
    context.logger.warn({ asn, err: error }, 'M1 purse damaged; card rejected');
    return { status: 'refused', promptId: 'invalid-card', reason: error.message, asn, application };
  }
  if (purse.repairs > 0) context.logger.info({ asn, repairs: purse.repairs, finished: purse.finish.kind }, 'M1 purse repaired');

  const open = store.findOpenInDoubt(asn);
  if (open) {
    const verdict = await step(() => decideM1InDoubt(io, open, purse));
    const occurredAt = context.clock.now().toISOString();
    const debit = open.record.debit;
    if (verdict === 'debited') {
      const record = store.appendResolution(open.sequence, 'debited', { tac: debit.m1?.recordMac, mac2Verified: true, balanceAfterFen: debit.balanceBeforeFen - debit.amountFen, occurredAt });
      context.onRecord?.();
      return { status: 'recovered', promptId: 'trip-recovered', asn, cardType: record.card.cardType as TapResult['cardType'], amountFen: debit.amountFen, balanceFen: purse.balanceFen, sequence: record.sequence, application };
    }
    if (verdict === 'not-debited') {
      store.appendResolution(open.sequence, 'not-debited', { occurredAt });
      context.onRecord?.();
    } else {
      context.logger.warn({ sequence: open.sequence, asn }, 'in-doubt M1 record cannot be settled on the card; left for clearing');
    }
  }

  const issuerId = m1IssuerId(issuance);
  const now = context.clock.now();
  const cardBoardingRead = readsCardBoarding(context.fareTable, context.trip);
  let openBoarding: TripBoarding | undefined;
  if (cardBoardingRead) openBoarding = await step(() => readTripBoarding(io, purse, now, context.utcOffsetMinutes, { logger: context.logger, asn }));
  const decision = decideTapFare({
    fareTable: context.fareTable,
    card: { asn, issuerId, issuerFactor: issuerId, cardTypeCode: issuance.cardTypeCode, startDate: issuance.startDate, expiryDate: issuance.expiryDate },
    today: formatCardDateTime(now, context.utcOffsetMinutes).slice(0, 8),
    now,
    trip: context.trip,
    blacklisted: context.isBlacklisted(asn),
    cardBoardingRead,
    boarding: openBoarding?.boarding,
    stopIndex: context.stopIndex,
    balanceFen: purse.balanceFen,
    recentTaps: context.recentTaps,
    routeStops: context.routeStops,
    utcOffsetMinutes: context.utcOffsetMinutes,
  });
  if (decision.kind === 'refuse') {
    if (decision.blockCard) await lockM1Card(io, issuance, asn, context);
    const balanceFen = decision.promptId === 'insufficient-balance' ? purse.balanceFen : undefined;
    return { status: 'refused', promptId: decision.promptId, reason: decision.reason, asn, cardType: decision.cardType, balanceFen, application };
  }
  const identity: CardIdentity = { application, medium: 'card', asn, issuerId, cardType: decision.cardType };
  const result = await purchaseFromM1Purse(io, {
    sam: sam as SecureAccessModule & M1SecureAccess,
    store,
    clock: context.clock,
    logger: context.logger,
    onRecord: context.onRecord,
    utcOffsetMinutes: context.utcOffsetMinutes,
    step,
    identity,
    uid,
    purse,
    amountFen: decision.amountFen,
    listFareFen: decision.listFareFen,
    trip: context.trip,
    transactionType: decision.purchase === 'composite' ? TRANSACTION_TYPE.compositePurchase : TRANSACTION_TYPE.purchase,
    stage: boardingStage(io, decision, context.trip),
  });
  if (result.status !== 'accepted') return { ...result, application };
  // Any debit closes the boarding by raising the purse counter, so the record is not written again.
  if (decision.remember) context.recentTaps.remember(asn, decision.remember);
  const balance = result.balanceFen ?? 0;
  const promptId = acceptedPromptId(decision, balance, context.fareTable);
  return { ...result, promptId, application };
}

/** Sets the enable flag to blacklisted (04) and keeps a lock record; the tap stays refused either way. */
async function lockM1Card(io: M1CardIo, issuance: M1Issuance, asn: string, context: M1TapContext): Promise<void> {
  let locked = true;
  let reason: string | undefined;
  try {
    await io.writeBlock(M1_LAYOUT.issuanceBlock, encodeM1Issuance({ ...issuance, enableFlag: M1_ENABLE_FLAG.blacklisted }));
  } catch (error) {
    locked = false;
    reason = (error as Error).message;
  }
  const record = {
    occurredAt: context.clock.now().toISOString(),
    application: 'm1' as const,
    asn,
    issuerId: m1IssuerId(issuance),
    psamTerminalNumber: toHex(context.sam.terminalNumber),
    vehicleId: context.trip.vehicleId,
    locked,
    reason,
  };
  context.lockLog?.append({ ...record, trip: context.trip });
  context.logger.warn({ lock: record }, locked ? 'blacklisted M1 card locked' : 'blacklisted M1 card could not be locked');
}
