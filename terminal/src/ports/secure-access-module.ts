import type { psam } from '@busfare/shared-protocol';

/**
 * The PSAM: it holds the purchase keys, so the terminal never sees a key. It computes MAC1,
 * checks MAC2 and owns the terminal transaction serial.
 */
export interface SecureAccessModule {
  /** Selects the PSAM application and reads the terminal number and key index. */
  open(): Promise<void>;
  /** 6-byte terminal number from PSAM MF EF16; valid after open(). */
  readonly terminalNumber: Uint8Array;
  /** Purchase key index from PSAM DF EF17; valid after open(). */
  readonly keyIndex: number;
  /**
   * The terminal transaction serial that the next INIT SAM FOR PURCHASE is expected to return:
   * the last serial the PSAM handed out plus one. Undefined until the first purchase after open()
   * and after a failed call, because the PSAM may or may not have advanced then.
   */
  readonly expectedTerminalSerial?: number;
  /** INIT SAM FOR PURCHASE: returns the terminal transaction serial and MAC1. */
  initForPurchase(command: psam.InitSamForPurchaseCommand): Promise<{ terminalSerial: number; mac1: Uint8Array }>;
  /** CREDIT SAM FOR PURCHASE: true when the PSAM accepts the card's MAC2. */
  verifyMac2(mac2: Uint8Array): Promise<boolean>;
  /**
   * Makes the PSAM DF that holds this card application's keys current (T-Union DF or MOHURD DF
   * 1001) and returns that DF's purchase key index. PSAMs without the method serve T-Union only.
   */
  useApplication?(application: 'tunion' | 'mohurd'): Promise<number>;
  /** MOHURD 80CA: true when the PSAM accepts the card's 9-byte security identification code. */
  verifyMohurdCode?(code: Uint8Array): Promise<boolean>;
  /** 801A then 80FA: the MAC of APPLICATION BLOCK for this card and its 4-byte challenge. */
  applicationBlockMac?(asn8: Uint8Array, issuerFactor: Uint8Array, challenge: Uint8Array): Promise<Uint8Array>;
}

/** The PSAM or its slot failed; the reader cannot take fares until it recovers. */
export class SecureAccessModuleError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecureAccessModuleError';
  }
}
