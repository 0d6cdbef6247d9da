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
  /** INIT SAM FOR PURCHASE: returns the terminal transaction serial and MAC1. */
  initForPurchase(command: psam.InitSamForPurchaseCommand): Promise<{ terminalSerial: number; mac1: Uint8Array }>;
  /** CREDIT SAM FOR PURCHASE: true when the PSAM accepts the card's MAC2. */
  verifyMac2(mac2: Uint8Array): Promise<boolean>;
}

/** The PSAM or its slot failed; the reader cannot take fares until it recovers. */
export class SecureAccessModuleError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecureAccessModuleError';
  }
}
