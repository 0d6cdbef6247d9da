import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { TUNION_CARD_HISTORICAL_BYTES, contactlessAtr } from './atr.js';
import type { PurseApplet } from './purse-applet.js';
import { VirtualCpuCard } from './virtual-cpu-card.js';
import { type VirtualMohurdCardOptions, createMohurdApplet } from './virtual-mohurd-card.js';
import { type VirtualTUnionCardOptions, createTUnionApplet, defaultUid } from './virtual-tunion-card.js';

export interface VirtualDualCardOptions {
  tunion: Omit<VirtualTUnionCardOptions, 'medium' | 'uid' | 'label' | 'randomBytes'>;
  mohurd: Omit<VirtualMohurdCardOptions, 't0' | 'uid' | 'label' | 'randomBytes'>;
  uid?: Uint8Array;
  label?: string;
  randomBytes?: (length: number) => Uint8Array;
}

/**
 * A "dual-standard" card with a T-Union and a MOHURD purse, each with its own ASN, keys, balance
 * and counter. Its PPSE lists both AIDs, so a reader learns of both with one command and debits
 * the one its parameters prefer.
 */
export class VirtualDualCard extends VirtualCpuCard {
  readonly tunion: PurseApplet;
  readonly mohurd: PurseApplet;

  constructor(options: VirtualDualCardOptions) {
    const randomBytes = options.randomBytes ?? ((length: number) => Uint8Array.from(cryptoRandomBytes(length)));
    const tunion = createTUnionApplet({ ...options.tunion, medium: 'card', randomBytes });
    const mohurd = createMohurdApplet({ ...options.mohurd, randomBytes });
    super({
      applets: [tunion, mohurd],
      atr: contactlessAtr(TUNION_CARD_HISTORICAL_BYTES),
      uid: options.uid ?? defaultUid(options.tunion.asn, 'card'),
      label: options.label ?? `dual-card ${options.tunion.asn}/${options.mohurd.asn}`,
      ppse: true,
      randomBytes,
    });
    this.tunion = tunion;
    this.mohurd = mohurd;
  }
}
