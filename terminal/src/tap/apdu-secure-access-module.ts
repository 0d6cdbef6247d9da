import { AID, SW, StatusWordError, expectLength, expectOk, fromHex, psam, epurse } from '@busfare/shared-protocol';
import type { ApduTransport } from '../ports/apdu-transport.js';
import { type SecureAccessModule, SecureAccessModuleError } from '../ports/secure-access-module.js';
import { exchange } from './apdu-exchange.js';

/** T-Union PSAM DF by file id, for PSAMs that do not answer the DF name. */
const TUNION_PSAM_DF_FID = fromHex('8011');

/**
 * A PSAM reached through APDUs: a contact slot of a PC/SC reader, or the bench's software PSAM.
 * It reads the terminal number from MF EF16 before selecting the T-Union PSAM DF, whose EF17
 * gives the purchase key index.
 */
export class ApduSecureAccessModule implements SecureAccessModule {
  private number?: Uint8Array;
  private index?: number;
  /** APDUs exchanged with the PSAM since start. */
  readonly counter = { apdus: 0 };

  constructor(private readonly transport: ApduTransport) {}

  get terminalNumber(): Uint8Array {
    if (!this.number) throw new SecureAccessModuleError('PSAM not opened: call open() first');
    return this.number;
  }

  get keyIndex(): number {
    if (this.index === undefined) throw new SecureAccessModuleError('PSAM not opened: call open() first');
    return this.index;
  }

  async open(): Promise<void> {
    try {
      const ef16 = await exchange(this.transport, psam.readPsamTerminalNumber(), this.counter);
      this.number = expectLength('READ PSAM EF16', expectOk('READ PSAM EF16', ef16), 6).slice();
      let select = await exchange(this.transport, epurse.selectByName(AID.tunionPsamDf), this.counter);
      if (select.sw !== SW.OK) select = await exchange(this.transport, epurse.selectByFileId(TUNION_PSAM_DF_FID), this.counter);
      expectOk('SELECT PSAM DF', select);
      const ef17 = await exchange(this.transport, psam.readPsamKeyIndex(), this.counter);
      this.index = expectLength('READ PSAM EF17', expectOk('READ PSAM EF17', ef17), 1)[0];
    } catch (error) {
      throw new SecureAccessModuleError(`PSAM start-up failed: ${(error as Error).message}`, { cause: error });
    }
  }

  async initForPurchase(command: psam.InitSamForPurchaseCommand): Promise<{ terminalSerial: number; mac1: Uint8Array }> {
    const response = await this.call(psam.initSamForPurchase(command), 'INIT SAM FOR PURCHASE');
    return psam.parseInitSamForPurchase(response);
  }

  async verifyMac2(mac2: Uint8Array): Promise<boolean> {
    const response = await this.call(psam.creditSamForPurchase(mac2), 'CREDIT SAM FOR PURCHASE');
    if (response.sw === SW.OK) return true;
    if (response.sw === SW.MAC_INVALID) return false;
    throw new StatusWordError('CREDIT SAM FOR PURCHASE', response.sw);
  }

  private async call(command: Uint8Array, name: string) {
    try {
      return await exchange(this.transport, command, this.counter);
    } catch (error) {
      throw new SecureAccessModuleError(`${name} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}
