import type { EPurseApplication } from './epurse-application.js';
import type { CyclicRecordFile, IdentifiedRecordFile } from './record-files.js';

export type PurseAppletKind = 'tunion' | 'mohurd';

/** The files and state of one PBOC e-purse application on a simulated CPU card or phone. */
export interface PurseAppletOptions {
  kind: PurseAppletKind;
  /** DF name the application answers to (partial names of at least 5 bytes also select it). */
  dfName: Uint8Array;
  /** Application serial number as the application's EF15 holds it (20 digits T-Union, 16 MOHURD). */
  asn: string;
  /** EF15, which the FCI also carries in tag 9F0C. */
  ef15: Uint8Array;
  applicationVersion: number;
  /** Binary files by SFI, EF15 included. */
  binaryFiles: ReadonlyMap<number, Uint8Array>;
  /** Cyclic record files by SFI other than the purse log (EF1E on T-Union). */
  cyclicFiles: ReadonlyMap<number, CyclicRecordFile>;
  /** Variable-length record files by SFI, addressed by record id (EF1A/EF19 T-Union, EF17 MOHURD). */
  identifiedFiles: ReadonlyMap<number, IdentifiedRecordFile>;
  /** SFI of the purse log (EF18). */
  purseLogSfi: number;
  purse: EPurseApplication;
  /** MOHURD: the 9-byte security identification code returned by 80 CA 00 00 09. */
  verifyCode?: Uint8Array;
  /** 16-byte key that checks the APPLICATION BLOCK MAC; without it the card refuses the command. */
  blockKey?: Uint8Array;
  /** SELECT of a blocked application returns 6283, of a permanently blocked one 9303. */
  blocked?: boolean | 'permanent';
}

/** One purse application on a card: the options plus its blocked state. */
export class PurseApplet {
  blocked: boolean | 'permanent';

  constructor(readonly options: PurseAppletOptions) {
    this.blocked = options.blocked ?? false;
  }

  get kind(): PurseAppletKind {
    return this.options.kind;
  }

  get asn(): string {
    return this.options.asn;
  }

  get purse(): EPurseApplication {
    return this.options.purse;
  }

  get dfName(): Uint8Array {
    return this.options.dfName;
  }
}
