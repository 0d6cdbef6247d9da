import { toHex } from '../bytes.js';
import { describeStatusWord } from './status-words.js';

/** A response APDU: data followed by the status word SW1 SW2. */
export interface ResponseApdu {
  data: Uint8Array;
  sw: number;
}

export class MalformedResponseError extends Error {
  constructor(message: string, readonly raw: Uint8Array) {
    super(`${message} (response ${toHex(raw) || 'empty'})`);
    this.name = 'MalformedResponseError';
  }
}

/** A card or PSAM answered with a status word the command does not accept. */
export class StatusWordError extends Error {
  constructor(readonly command: string, readonly sw: number) {
    super(`${command} failed with status word ${formatSw(sw)} (${describeStatusWord(sw)})`);
    this.name = 'StatusWordError';
  }
}

export function splitResponse(raw: Uint8Array): ResponseApdu {
  if (raw.length < 2) throw new MalformedResponseError(`response of ${raw.length} bytes has no status word`, raw);
  const sw = ((raw[raw.length - 2] ?? 0) << 8) | (raw[raw.length - 1] ?? 0);
  return { data: raw.subarray(0, raw.length - 2), sw };
}

export function formatSw(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/** Returns the data of a 9000 response, or throws StatusWordError. */
export function expectOk(command: string, response: ResponseApdu): Uint8Array {
  if (response.sw !== 0x9000) throw new StatusWordError(command, response.sw);
  return response.data;
}

/** Checks that a successful response carries exactly the expected number of data bytes. */
export function expectLength(command: string, data: Uint8Array, length: number): Uint8Array {
  if (data.length !== length) {
    throw new MalformedResponseError(`${command} returned ${data.length} data bytes, expected ${length}`, data);
  }
  return data;
}
