/** A rejected store operation, with a `code` for callers and a `message` for people. */
export type TransactionStoreErrorCode =
  | 'not-found'
  | 'invalid-state'
  | 'invalid-record'
  | 'invalid-acknowledgement'
  | 'storage-full';

export class TransactionStoreError extends Error {
  readonly code: TransactionStoreErrorCode;

  constructor(code: TransactionStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransactionStoreError';
    this.code = code;
  }
}
