import { SW, type TripContext, asnFactor, epurse, fromHex, toHex } from '@busfare/shared-protocol';
import type { Logger } from '../logger.js';
import type { CardSession } from '../ports/card-reader.js';
import type { SecureAccessModule } from '../ports/secure-access-module.js';
import type { TransactionStore } from '../store/transaction-store.js';
import { exchange } from './apdu-exchange.js';
import type { PurseApplicationKind, PurseCardFacts } from './select-application.js';

/** The record a reader keeps when it locks a blacklisted card. */
export interface CardLockRecord {
  occurredAt: string;
  application: PurseApplicationKind | 'm1';
  asn: string;
  issuerId: string;
  psamTerminalNumber: string;
  vehicleId: string;
  /** Whether the card confirmed the lock (APPLICATION BLOCK answered 9000, or the M1 flag was written). */
  locked: boolean;
  reason?: string;
  /** Trip context of the bus at the lock; without it the lock record carries the vehicle id only. */
  trip?: TripContext;
}

/** Where lock records go. */
export interface CardLockLog {
  append(record: CardLockRecord): void;
}

/**
 * Appends every lock record to the terminal's outbox as a `lock` record, so the uplink carries it
 * to the back office, calls `onAppend` (the uplink's cue to send), then passes the record on to
 * `next` when given. A failed append is logged and dropped, because the tap is refused either way
 * and the card is already locked or not.
 */
export class OutboxCardLockLog implements CardLockLog {
  constructor(
    private readonly store: Pick<TransactionStore, 'appendLock'>,
    private readonly logger: Logger,
    private readonly next?: CardLockLog,
    private readonly onAppend?: () => void,
  ) {}

  append(record: CardLockRecord): void {
    try {
      this.store.appendLock({
        occurredAt: record.occurredAt,
        card: { application: record.application, asn: record.asn, issuerId: record.issuerId },
        lock: { locked: record.locked, psamTerminalNumber: record.psamTerminalNumber, ...(record.reason === undefined ? {} : { reason: record.reason.slice(0, 500) }) },
        trip: record.trip ?? { vehicleId: record.vehicleId },
      });
      this.onAppend?.();
    } catch (error) {
      this.logger.error({ err: error, asn: record.asn, locked: record.locked }, 'failed to append a card lock record to the outbox');
    }
    this.next?.append(record);
  }
}

/** Keeps lock records in memory, for tests and the bench. */
export class MemoryCardLockLog implements CardLockLog {
  readonly records: CardLockRecord[] = [];

  append(record: CardLockRecord): void {
    this.records.push(record);
  }
}

/**
 * Locks a blacklisted card's selected application: the PSAM diversifies the application-block
 * key (801A) for the card, the card gives a challenge (GET CHALLENGE), the PSAM MACs the
 * APPLICATION BLOCK command with it (80FA), and the card takes APPLICATION BLOCK (841E). Returns
 * whether the card confirmed; a locked card answers SELECT with 6283 from then on.
 */
export async function blockApplication(
  session: CardSession,
  counter: { apdus: number },
  sam: SecureAccessModule,
  facts: PurseCardFacts,
): Promise<{ locked: boolean; reason?: string }> {
  if (!sam.applicationBlockMac) return { locked: false, reason: 'the PSAM cannot compute an application-block MAC' };
  const challenge = await exchange(session, epurse.getChallenge(4), counter);
  if (challenge.sw !== SW.OK || challenge.data.length !== 4) return { locked: false, reason: `GET CHALLENGE failed with SW ${challenge.sw.toString(16)}` };
  const mac = await sam.applicationBlockMac(asnFactor(facts.asn), fromHex(facts.issuerFactor), challenge.data.slice());
  const blocked = await exchange(session, epurse.applicationBlock(mac), counter);
  if (blocked.sw !== SW.OK) return { locked: false, reason: `APPLICATION BLOCK failed with SW ${blocked.sw.toString(16)} (MAC ${toHex(mac)})` };
  return { locked: true };
}
