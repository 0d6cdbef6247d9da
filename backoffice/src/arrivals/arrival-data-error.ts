/** Input arrival, schedule or position data that cannot be read; the message names the line. */
export class ArrivalDataError extends Error {
  override name = 'ArrivalDataError';
}
