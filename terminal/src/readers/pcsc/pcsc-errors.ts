import { CardIoError, ReaderIoError } from '../../ports/card-reader.js';

/** PC/SC return codes (pcsc-lite `pcsclite.h`, the same values as Windows `winerror.h`) the adapter acts on. */
export const PCSC_CODE = {
  SCARD_E_CANCELLED: 0x80100002,
  SCARD_E_INVALID_HANDLE: 0x80100003,
  SCARD_E_UNKNOWN_READER: 0x80100009,
  SCARD_E_TIMEOUT: 0x8010000a,
  SCARD_E_SHARING_VIOLATION: 0x8010000b,
  SCARD_E_NO_SMARTCARD: 0x8010000c,
  SCARD_E_PROTO_MISMATCH: 0x8010000f,
  SCARD_E_NOT_READY: 0x80100010,
  SCARD_F_COMM_ERROR: 0x80100013,
  SCARD_E_NOT_TRANSACTED: 0x80100016,
  SCARD_E_READER_UNAVAILABLE: 0x80100017,
  SCARD_E_NO_SERVICE: 0x8010001d,
  SCARD_E_SERVICE_STOPPED: 0x8010001e,
  SCARD_E_NO_READERS_AVAILABLE: 0x8010002e,
  SCARD_E_COMM_DATA_LOST: 0x8010002f,
  SCARD_W_UNRESPONSIVE_CARD: 0x80100066,
  SCARD_W_UNPOWERED_CARD: 0x80100067,
  SCARD_W_RESET_CARD: 0x80100068,
  SCARD_W_REMOVED_CARD: 0x80100069,
} as const;

type PcscErrorClass = { kind: 'card'; reason: CardIoError['reason'] } | { kind: 'reader' };

/**
 * What each PC/SC code means for a tap. Card errors end the tap with "tap again"; reader errors
 * also make the adapter reconnect. A code missing here counts as a reader error, the safe side:
 * the terminal re-checks the reader rather than blaming the rider's card.
 */
const PCSC_ERROR_CLASSES: ReadonlyMap<number, PcscErrorClass> = new Map<number, PcscErrorClass>([
  [PCSC_CODE.SCARD_W_REMOVED_CARD, { kind: 'card', reason: 'removed' }],
  [PCSC_CODE.SCARD_E_NO_SMARTCARD, { kind: 'card', reason: 'removed' }],
  // pcscd answers a transmit on a card that left mid-exchange with NOT_TRANSACTED (seen with vpcd).
  [PCSC_CODE.SCARD_E_NOT_TRANSACTED, { kind: 'card', reason: 'removed' }],
  [PCSC_CODE.SCARD_W_UNPOWERED_CARD, { kind: 'card', reason: 'removed' }],
  [PCSC_CODE.SCARD_W_RESET_CARD, { kind: 'card', reason: 'transport' }],
  [PCSC_CODE.SCARD_E_PROTO_MISMATCH, { kind: 'card', reason: 'transport' }],
  [PCSC_CODE.SCARD_E_COMM_DATA_LOST, { kind: 'card', reason: 'transport' }],
  [PCSC_CODE.SCARD_E_TIMEOUT, { kind: 'card', reason: 'timeout' }],
  [PCSC_CODE.SCARD_W_UNRESPONSIVE_CARD, { kind: 'card', reason: 'timeout' }],
  [PCSC_CODE.SCARD_E_READER_UNAVAILABLE, { kind: 'reader' }],
  [PCSC_CODE.SCARD_E_UNKNOWN_READER, { kind: 'reader' }],
  [PCSC_CODE.SCARD_E_INVALID_HANDLE, { kind: 'reader' }],
  [PCSC_CODE.SCARD_E_SHARING_VIOLATION, { kind: 'reader' }],
  [PCSC_CODE.SCARD_E_NOT_READY, { kind: 'reader' }],
  [PCSC_CODE.SCARD_F_COMM_ERROR, { kind: 'reader' }],
  [PCSC_CODE.SCARD_E_NO_SERVICE, { kind: 'reader' }],
  [PCSC_CODE.SCARD_E_SERVICE_STOPPED, { kind: 'reader' }],
  [PCSC_CODE.SCARD_E_NO_READERS_AVAILABLE, { kind: 'reader' }],
  [PCSC_CODE.SCARD_E_CANCELLED, { kind: 'reader' }],
]);

/** Error codes of nfc-pcsc's own errors (not PC/SC codes) that mean the card connection is gone. */
const NFC_PCSC_CARD_GONE_CODES = new Set(['card_not_connected', 'not_connected']);

/**
 * Extracts the PC/SC return code from an error of `@pokusew/pcsclite` or nfc-pcsc. The addon has
 * no code property: it formats every failure as "<function> error: <text>(0x8010xxxx)", so the
 * code is read from that fixed hex suffix and never from the text. nfc-pcsc wraps the addon's
 * error in `previous`.
 */
export function pcscCodeOf(error: unknown): number | undefined {
  for (let current = error, depth = 0; current && depth < 4; depth += 1) {
    const message = (current as Error).message;
    const match = typeof message === 'string' ? /\(0x([0-9a-fA-F]{8})\)\s*$/.exec(message) : null;
    if (match?.[1]) return Number.parseInt(match[1], 16);
    current = (current as { previous?: unknown; cause?: unknown }).previous ?? (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Formats a PC/SC code the way pcsc-lite prints it. */
export function formatPcscCode(code: number): string {
  return `0x${code.toString(16).padStart(8, '0')}`;
}

/** Returns the name of a PC/SC code from PCSC_CODE, or its hex form. */
export function pcscCodeName(code: number): string {
  const entry = Object.entries(PCSC_CODE).find(([, value]) => value === code);
  return entry ? entry[0] : formatPcscCode(code);
}

/**
 * Maps a failed transmit to the port's errors by PC/SC code: CardIoError for the card, ReaderIoError
 * for the reader or pcscd. `context` names the reader and session for the message.
 */
export function mapTransmitError(error: unknown, context: string): CardIoError | ReaderIoError {
  if (error instanceof CardIoError || error instanceof ReaderIoError) return error;
  const nfcCode = (error as { code?: unknown } | undefined)?.code;
  const code = pcscCodeOf(error);
  if (code === undefined) {
    if (typeof nfcCode === 'string' && NFC_PCSC_CARD_GONE_CODES.has(nfcCode)) {
      return new CardIoError(`${context}: card connection closed`, 'removed', { cause: error });
    }
    return new ReaderIoError(`${context}: transmit failed without a PC/SC code: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  const errorClass = PCSC_ERROR_CLASSES.get(code);
  const label = `${pcscCodeName(code)} (${formatPcscCode(code)})`;
  if (errorClass?.kind === 'card') return new CardIoError(`${context}: ${label}`, errorClass.reason, { cause: error });
  return new ReaderIoError(`${context}: ${label}`, { cause: error });
}

/** True when a PC/SC error means pcscd itself is gone or restarting, so the context must be replaced. */
export function isServiceLoss(error: unknown): boolean {
  const code = pcscCodeOf(error);
  return code === PCSC_CODE.SCARD_F_COMM_ERROR || code === PCSC_CODE.SCARD_E_NO_SERVICE || code === PCSC_CODE.SCARD_E_SERVICE_STOPPED || code === PCSC_CODE.SCARD_E_INVALID_HANDLE;
}
