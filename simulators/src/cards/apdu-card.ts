import { concatBytes } from '@busfare/shared-protocol';

/** Anything that takes a command APDU and synchronously returns its response (data + SW1 SW2). */
export interface ApduProcessor {
  process(command: Uint8Array): Uint8Array;
}

/** A simulated card in the reader's field. */
export interface ApduCard extends ApduProcessor {
  readonly atr: Uint8Array;
  readonly protocol: 'iso14443-4' | 'mifare-classic';
  /** UID from the anticollision, when the card has a fixed one. */
  readonly uid?: Uint8Array;
  /** Short description for logs and bench reports, never a key. */
  readonly label: string;
}

/**
 * Status words the simulators return that the shared status-word table does not name. Values are
 * ISO/IEC 7816-4 interindustry codes.
 */
export const SIMULATOR_SW = {
  WRONG_DATA: 0x6a80,
  RECORD_NOT_FOUND: 0x6a83,
  WRONG_OFFSET: 0x6b00,
  NO_CURRENT_EF: 0x6986,
  KEY_NOT_SUPPORTED: 0x9403,
  UNKNOWN_ERROR: 0x6f00,
} as const;

/** Builds a response APDU from its data and status word. */
export function respond(data: Uint8Array, sw: number): Uint8Array {
  return concatBytes(data, Uint8Array.of(sw >>> 8, sw & 0xff));
}

/** Builds a response APDU that carries only a status word. */
export function statusOnly(sw: number): Uint8Array {
  return Uint8Array.of(sw >>> 8, sw & 0xff);
}
