import type { CardType, RiderPromptId } from '@busfare/shared-protocol';

/**
 * How a tap ended at the door.
 * - accepted: the fare was taken and the completed record is durable, or a driver card changed
 *   the shift (then `driverCard` is set and no fare was taken).
 * - recovered: a torn earlier tap of this card was proven debited; the trip is booked without a new debit.
 * - refused: nothing was debited (balance, validity, card type, unknown or blocked card, or a
 *   driver card the shift did not take).
 * - in-doubt: DEBIT was sent and no usable answer came back; the rider is asked to tap again.
 * - failed: the tap ended before DEBIT (card removed, read error, reader or PSAM fault).
 */
export type TapStatus = 'accepted' | 'recovered' | 'refused' | 'in-doubt' | 'failed';

/** Effect of a driver card tap on the driver shift. */
export type DriverCardAction = 'signed-on' | 'sign-off-armed' | 'signed-off' | 'rejected';

/** A tap of a driver card: never a fare transaction, and never counted in the shift's taps. */
export interface DriverCardTap {
  action: DriverCardAction;
  /** Driver number read from the card; absent when the card data was invalid. */
  driverId?: string;
}

export interface TapOutcome {
  status: TapStatus;
  promptId: RiderPromptId;
  reason?: string;
  asn?: string;
  cardType?: CardType;
  amountFen?: number;
  balanceFen?: number;
  /** Purse application the tap used. */
  application?: 'tunion' | 'mohurd' | 'm1';
  /** Set when the card was a driver card. */
  driverCard?: DriverCardTap;
  /** Sequence of the record this tap wrote, if any. */
  sequence?: number;
  /** Card APDUs exchanged during the tap. */
  cardApdus: number;
  /** PSAM APDUs exchanged during the tap. */
  psamApdus: number;
  durationMs: number;
}

/** A tap's outcome before the APDU counts and the duration are added. */
export type TapResult = Omit<TapOutcome, 'cardApdus' | 'psamApdus' | 'durationMs'>;
