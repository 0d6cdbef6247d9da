import type { m1Psam } from '@busfare/shared-protocol';
import type { SecureAccessModule } from '../../ports/secure-access-module.js';

/**
 * What a PSAM (or a key service in its place) does for MIFARE Classic purses: derive the card's
 * sector keys from its UID, and MAC each purchase record with a key diversified for the card, so
 * that the terminal keeps no M1 key beyond the tap that uses it.
 */
export interface M1SecureAccess {
  /** Key A of each sector, in the order asked. */
  deriveM1Keys(uid: Uint8Array, sectors: readonly number[]): Promise<Uint8Array[]>;
  /** MACs a purchase record and hands out the terminal transaction serial it covers. */
  m1RecordMac(command: m1Psam.M1RecordMacCommand): Promise<{ terminalSerial: number; mac: Uint8Array }>;
}

export function supportsM1(sam: SecureAccessModule): sam is SecureAccessModule & M1SecureAccess {
  const candidate = sam as Partial<M1SecureAccess>;
  return typeof candidate.deriveM1Keys === 'function' && typeof candidate.m1RecordMac === 'function';
}
