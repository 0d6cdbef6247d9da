import { AID, MOHURD_PSAM_DF_FID, SW, StatusWordError, expectLength, expectOk, fromHex, m1Psam, psam, epurse } from '@busfare/shared-protocol';
import type { ApduTransport } from '../ports/apdu-transport.js';
import { type SecureAccessModule, SecureAccessModuleError } from '../ports/secure-access-module.js';
import { exchange } from './apdu-exchange.js';
import type { M1SecureAccess } from './m1/m1-secure-access.js';

/** T-Union PSAM DF by file id, for PSAMs that do not answer the DF name. */
const TUNION_PSAM_DF_FID = fromHex('8011');

type PsamApplication = 'tunion' | 'mohurd';

/**
 * A PSAM reached through APDUs: a contact slot of a PC/SC reader, or the bench's software PSAM.
 * It reads the terminal number from MF EF16 before selecting the T-Union PSAM DF, whose EF17
 * gives the purchase key index. The MOHURD DF (1001) is selected only when a MOHURD card needs
 * it, and the T-Union DF again after that; each DF's key index is read once and kept.
 */
export class ApduSecureAccessModule implements SecureAccessModule, M1SecureAccess {
  private number?: Uint8Array;
  private current: PsamApplication = 'tunion';
  private readonly keyIndexes = new Map<PsamApplication, number>();
  private nextSerial?: number;
  /** APDUs exchanged with the PSAM since start. */
  readonly counter = { apdus: 0 };

  constructor(private readonly transport: ApduTransport) {}

  get terminalNumber(): Uint8Array {
    if (!this.number) throw new SecureAccessModuleError('PSAM not opened: call open() first');
    return this.number;
  }

  /**
   * Last serial from INIT SAM FOR PURCHASE or M1 RECORD MAC plus one. It assumes one serial
   * sequence for every purchase kind, as the bench PSAM keeps. A PSAM that counts otherwise only
   * makes the expectation miss, which the purchase detects.
   */
  get expectedTerminalSerial(): number | undefined {
    return this.nextSerial;
  }

  /** Key index of the DF that is current now. */
  get keyIndex(): number {
    const index = this.keyIndexes.get(this.current);
    if (index === undefined) throw new SecureAccessModuleError('PSAM not opened: call open() first');
    return index;
  }

  async open(): Promise<void> {
    try {
      const ef16 = await exchange(this.transport, psam.readPsamTerminalNumber(), this.counter);
      this.number = expectLength('READ PSAM EF16', expectOk('READ PSAM EF16', ef16), 6).slice();
      this.keyIndexes.clear();
      this.nextSerial = undefined;
      await this.selectDf('tunion');
    } catch (error) {
      throw new SecureAccessModuleError(`PSAM start-up failed: ${(error as Error).message}`, { cause: error });
    }
  }

  async useApplication(application: PsamApplication): Promise<number> {
    if (application !== this.current || !this.keyIndexes.has(application)) {
      try {
        await this.selectDf(application);
      } catch (error) {
        throw new SecureAccessModuleError(`PSAM ${application} DF selection failed: ${(error as Error).message}`, { cause: error });
      }
    }
    return this.keyIndex;
  }

  async initForPurchase(command: psam.InitSamForPurchaseCommand): Promise<{ terminalSerial: number; mac1: Uint8Array }> {
    this.nextSerial = undefined;
    const response = await this.call(psam.initSamForPurchase(command), 'INIT SAM FOR PURCHASE');
    const result = psam.parseInitSamForPurchase(response);
    this.nextSerial = (result.terminalSerial + 1) >>> 0;
    return result;
  }

  async verifyMac2(mac2: Uint8Array): Promise<boolean> {
    const response = await this.call(psam.creditSamForPurchase(mac2), 'CREDIT SAM FOR PURCHASE');
    if (response.sw === SW.OK) return true;
    if (response.sw === SW.MAC_INVALID) return false;
    throw new StatusWordError('CREDIT SAM FOR PURCHASE', response.sw);
  }

  async verifyMohurdCode(code: Uint8Array): Promise<boolean> {
    await this.useApplication('mohurd');
    const response = await this.call(psam.verifyMohurdCode(code), 'VERIFY MOHURD CODE');
    return response.sw === SW.OK;
  }

  async applicationBlockMac(asn8: Uint8Array, issuerFactor: Uint8Array, challenge: Uint8Array): Promise<Uint8Array> {
    const delivered = await this.call(psam.deliverApplicationBlockKey(asn8, issuerFactor), 'DELIVERY KEY');
    if (delivered.sw !== SW.OK) throw new SecureAccessModuleError(`DELIVERY KEY failed with SW ${delivered.sw.toString(16)}`);
    const response = await this.call(psam.computeApplicationBlockMac(challenge), 'COMPUTE MAC');
    try {
      return psam.parseMacResponse('COMPUTE MAC', response);
    } catch (error) {
      throw new SecureAccessModuleError(`COMPUTE MAC failed: ${(error as Error).message}`, { cause: error });
    }
  }

  async deriveM1Keys(uid: Uint8Array, sectors: readonly number[]): Promise<Uint8Array[]> {
    const response = await this.call(m1Psam.deriveM1Keys(uid, sectors), 'DERIVE M1 KEYS');
    try {
      return m1Psam.parseM1Keys(response, sectors.length);
    } catch (error) {
      throw new SecureAccessModuleError(`DERIVE M1 KEYS failed: ${(error as Error).message}`, { cause: error });
    }
  }

  async m1RecordMac(command: m1Psam.M1RecordMacCommand): Promise<{ terminalSerial: number; mac: Uint8Array }> {
    this.nextSerial = undefined;
    const response = await this.call(m1Psam.m1RecordMac(command), 'M1 RECORD MAC');
    try {
      const result = m1Psam.parseM1RecordMac(response);
      this.nextSerial = (result.terminalSerial + 1) >>> 0;
      return result;
    } catch (error) {
      throw new SecureAccessModuleError(`M1 RECORD MAC failed: ${(error as Error).message}`, { cause: error });
    }
  }

  private async selectDf(application: PsamApplication): Promise<void> {
    let select;
    if (application === 'mohurd') select = await exchange(this.transport, epurse.selectByFileId(MOHURD_PSAM_DF_FID), this.counter);
    else {
      select = await exchange(this.transport, epurse.selectByName(AID.tunionPsamDf), this.counter);
      if (select.sw !== SW.OK) select = await exchange(this.transport, epurse.selectByFileId(TUNION_PSAM_DF_FID), this.counter);
    }
    expectOk(`SELECT PSAM ${application} DF`, select);
    this.current = application;
    if (!this.keyIndexes.has(application)) {
      const ef17 = await exchange(this.transport, psam.readPsamKeyIndex(), this.counter);
      this.keyIndexes.set(application, expectLength('READ PSAM EF17', expectOk('READ PSAM EF17', ef17), 1)[0] ?? 0);
    }
  }

  private async call(command: Uint8Array, name: string) {
    try {
      return await exchange(this.transport, command, this.counter);
    } catch (error) {
      throw new SecureAccessModuleError(`${name} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}
