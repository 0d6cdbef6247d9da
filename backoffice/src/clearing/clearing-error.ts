/** Why a clearing action was refused; the HTTP layer maps each code to a status. */
export type ClearingErrorCode = 'invalid' | 'not-found' | 'conflict' | 'forbidden';

/** A clearing action that cannot be carried out, with the reason an operator can act on. */
export class ClearingError extends Error {
  override name = 'ClearingError';

  constructor(
    readonly code: ClearingErrorCode,
    message: string,
  ) {
    super(message);
  }
}
