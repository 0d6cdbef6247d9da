/**
 * Status words a bus reader meets, each mapped to what the terminal does next. The mapping is in
 * one table so that the tap state machine, the PSAM client and the operator reports agree.
 */
export type RecoveryClass =
  /** The command succeeded. */
  | 'ok'
  /** Fetch the rest with GET RESPONSE (61xx, contact PSAM under T=0). */
  | 'get-response'
  /** Reissue the command with the Le the card gave (6Cxx). */
  | 'retry-with-le'
  /** The application or file is not on this card: try the next AID or path. */
  | 'try-next'
  /** The application is locked or invalidated: treat the card as blacklisted ("无效卡"). */
  | 'card-blocked'
  /** The purse balance is too low for the fare ("余额不足"). */
  | 'insufficient-balance'
  /** MAC or security failure between card and PSAM: refuse the card, do not retry. */
  | 'security-failure'
  /** GET TRANSACTION PROOF found no transaction: the earlier debit did not happen. */
  | 'no-transaction'
  /** Any other failure: abort this tap and ask the rider to tap again. */
  | 'abort';

interface StatusWordEntry {
  recovery: RecoveryClass;
  meaning: string;
}

const EXACT: ReadonlyMap<number, StatusWordEntry> = new Map([
  [0x9000, { recovery: 'ok', meaning: 'success' }],
  [0x6a82, { recovery: 'try-next', meaning: 'application or file not found' }],
  [0x6a81, { recovery: 'try-next', meaning: 'function not supported' }],
  [0x6a86, { recovery: 'abort', meaning: 'incorrect P1 or P2' }],
  [0x6700, { recovery: 'abort', meaning: 'wrong length' }],
  [0x6d00, { recovery: 'abort', meaning: 'instruction not supported' }],
  [0x6e00, { recovery: 'abort', meaning: 'class not supported' }],
  [0x6283, { recovery: 'card-blocked', meaning: 'selected application invalidated' }],
  [0x6284, { recovery: 'card-blocked', meaning: 'selected application locked' }],
  [0x9303, { recovery: 'card-blocked', meaning: 'application permanently locked' }],
  [0x9401, { recovery: 'insufficient-balance', meaning: 'insufficient balance' }],
  [0x9302, { recovery: 'security-failure', meaning: 'MAC invalid' }],
  [0x6988, { recovery: 'security-failure', meaning: 'secure messaging data objects incorrect' }],
  [0x6982, { recovery: 'security-failure', meaning: 'security status not satisfied' }],
  [0x6985, { recovery: 'no-transaction', meaning: 'conditions of use not satisfied (no provable transaction)' }],
  [0x6300, { recovery: 'abort', meaning: 'operation failed' }],
  [0x6581, { recovery: 'abort', meaning: 'memory failure' }],
  [0x9403, { recovery: 'security-failure', meaning: 'key index not supported' }],
  [0x9406, { recovery: 'security-failure', meaning: 'required MAC not available' }],
]);

export function classifyStatusWord(sw: number): RecoveryClass {
  const exact = EXACT.get(sw);
  if (exact) return exact.recovery;
  if ((sw & 0xff00) === 0x6100) return 'get-response';
  if ((sw & 0xff00) === 0x6c00) return 'retry-with-le';
  return 'abort';
}

export function describeStatusWord(sw: number): string {
  const exact = EXACT.get(sw);
  if (exact) return exact.meaning;
  if ((sw & 0xff00) === 0x6100) return `${sw & 0xff} more response bytes available`;
  if ((sw & 0xff00) === 0x6c00) return `wrong Le, card offers ${sw & 0xff} bytes`;
  return 'unexpected status word';
}

export const SW = {
  OK: 0x9000,
  FILE_NOT_FOUND: 0x6a82,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  APP_INVALIDATED: 0x6283,
  APP_LOCKED: 0x6284,
  APP_LOCKED_PERMANENTLY: 0x9303,
  INSUFFICIENT_BALANCE: 0x9401,
  MAC_INVALID: 0x9302,
  SECURITY_NOT_SATISFIED: 0x6982,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  WRONG_LENGTH: 0x6700,
  WRONG_P1P2: 0x6a86,
} as const;
