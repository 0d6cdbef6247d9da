import { type ResponseApdu, epurse, splitResponse } from '@busfare/shared-protocol';
import type { ApduTransport } from '../ports/apdu-transport.js';

/** Upper bound on GET RESPONSE rounds, so a hostile card cannot keep the reader busy forever. */
const MAX_CHAINED_RESPONSES = 8;

/**
 * Sends a command and follows the ISO 7816-4 transport rules: 61xx fetches the rest with GET
 * RESPONSE (contact PSAMs under T=0), 6Cxx reissues a command that carries Le once with the Le
 * the card gave. A command without Le (a write) is never reissued, because its last byte is data.
 * Counts each APDU on the wire in `counter` when given.
 */
export async function exchange(transport: ApduTransport, command: Uint8Array, counter?: { apdus: number }): Promise<ResponseApdu> {
  let response = splitResponse(await send(transport, command, counter));
  if ((response.sw & 0xff00) === 0x6c00 && carriesLe(command)) {
    const retry = Uint8Array.from(command);
    retry[retry.length - 1] = response.sw & 0xff;
    response = splitResponse(await send(transport, retry, counter));
  }
  const chunks: Uint8Array[] = [];
  let rounds = 0;
  while ((response.sw & 0xff00) === 0x6100) {
    if (rounds >= MAX_CHAINED_RESPONSES) break;
    rounds += 1;
    chunks.push(response.data);
    response = splitResponse(await send(transport, epurse.getResponse(response.sw & 0xff), counter));
  }
  if (chunks.length === 0) return response;
  chunks.push(response.data);
  return { data: Uint8Array.from(Buffer.concat(chunks)), sw: response.sw };
}

async function send(transport: ApduTransport, command: Uint8Array, counter?: { apdus: number }): Promise<Uint8Array> {
  if (counter) counter.apdus += 1;
  return transport.transmit(command);
}

/** Returns whether a short command APDU ends with Le: header and Le alone, or header, Lc, data and Le. */
function carriesLe(command: Uint8Array): boolean {
  if (command.length === 5) return true;
  return command.length > 5 && command.length === 6 + (command[4] ?? 0);
}
