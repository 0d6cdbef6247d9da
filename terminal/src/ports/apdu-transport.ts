/** Anything that exchanges APDUs: a card session, a PSAM slot, a simulated PSAM. */
export interface ApduTransport {
  transmit(command: Uint8Array): Promise<Uint8Array>;
}
