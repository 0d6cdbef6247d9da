import { BENCH_ISSUERS, type BenchIssuer } from '../keys/test-keys.js';
import type { VirtualCpuCard } from '../cards/virtual-cpu-card.js';
import { VirtualDualCard } from '../cards/virtual-dual-card.js';
import { VirtualM1Card } from '../cards/virtual-m1-card.js';
import { VirtualMohurdCard } from '../cards/virtual-mohurd-card.js';
import { type CardMediumKind, VirtualTUnionCard } from '../cards/virtual-tunion-card.js';

/** Every card kind the tearing sweep and the tap benchmark present. */
export const SWEEP_CARD_KINDS = ['tunion-cpu', 'tunion-sm4', 'tunion-sim', 'tunion-hce', 'mohurd-cpu', 'dual-tunion', 'dual-mohurd', 'm1'] as const;
export type SweepCardKind = (typeof SWEEP_CARD_KINDS)[number];
export type CpuSweepCardKind = Exclude<SweepCardKind, 'm1'>;

/** A sweep card of any kind. */
export type SweepCard = VirtualCpuCard | VirtualM1Card;

/** Sum over the card's purses of the balance it started with, in fen. */
export function initialBalanceOf(card: SweepCard, balanceFen: number): number {
  return card instanceof VirtualM1Card ? card.initialBalanceFen : card.applets.length * balanceFen;
}

/** Which purse a dual-application card pays from under each kind; other kinds have one purse. */
export function preferredApplicationOf(kind: SweepCardKind): 'tunion' | 'mohurd' {
  return kind === 'dual-mohurd' ? 'mohurd' : 'tunion';
}

/** Balance of every purse of a sweep card, in fen. */
export const SWEEP_CARD_BALANCE_FEN = 5_000;

const VALIDITY = { startDate: '20240101', expiryDate: '20341231' };

function tunionOptions(issuer: BenchIssuer, serial: number, balanceFen: number, medium: CardMediumKind) {
  return {
    asn: `${issuer.cityCode}${issuer.issuerId.slice(4, 8)}${String(serial).padStart(12, '0')}`,
    issuerId: issuer.issuerId,
    balanceFen,
    cardTypeCode: 1,
    algorithm: issuer.algorithm,
    keyVersion: issuer.keyVersion,
    purchaseMasterKey: issuer.purchaseMasterKey,
    tacMasterKey: issuer.tacMasterKey,
    appBlockMasterKey: issuer.appBlockMasterKey,
    medium,
    ...VALIDITY,
  };
}

function mohurdOptions(serial: number, balanceFen: number) {
  const issuer = BENCH_ISSUERS.mohurdCity;
  return {
    asn: `${issuer.cityCode}${String(serial).padStart(12, '0')}`,
    cityCode: issuer.cityCode,
    balanceFen,
    cardTypeCode: 1,
    algorithm: issuer.algorithm,
    keyVersion: issuer.keyVersion,
    purchaseMasterKey: issuer.purchaseMasterKey,
    tacMasterKey: issuer.tacMasterKey,
    verifyMasterKey: issuer.verifyMasterKey!,
    appBlockMasterKey: issuer.appBlockMasterKey,
    ...VALIDITY,
  };
}

/** A fresh ordinary M1 purse; `serial` makes its UID and card number unique. */
function m1Card(serial: number, balanceFen: number): VirtualM1Card {
  return new VirtualM1Card({
    uid: Uint8Array.of(0x4d, (serial >>> 16) & 0xff, (serial >>> 8) & 0xff, serial & 0xff),
    cardSerial: String(serial % 100_000_000).padStart(8, '0'),
    balanceFen,
    cardTypeCode: 1,
    ...VALIDITY,
  });
}

/** A fresh ordinary card of the given kind; `serial` makes its ASN unique within the kind. */
export function createSweepCard(kind: CpuSweepCardKind, serial: number, balanceFen?: number): VirtualCpuCard;
export function createSweepCard(kind: 'm1', serial: number, balanceFen?: number): VirtualM1Card;
export function createSweepCard(kind: SweepCardKind, serial: number, balanceFen?: number): SweepCard;
export function createSweepCard(kind: SweepCardKind, serial: number, balanceFen = SWEEP_CARD_BALANCE_FEN): SweepCard {
  switch (kind) {
    case 'm1':
      return m1Card(serial, balanceFen);
    case 'tunion-cpu':
      return new VirtualTUnionCard(tunionOptions(BENCH_ISSUERS.cityDes, serial, balanceFen, 'card'));
    case 'tunion-sm4':
      return new VirtualTUnionCard(tunionOptions(BENCH_ISSUERS.citySm4, serial, balanceFen, 'card'));
    case 'tunion-sim':
      return new VirtualTUnionCard(tunionOptions(BENCH_ISSUERS.cityDes, 100_000 + serial, balanceFen, 'sim'));
    case 'tunion-hce':
      return new VirtualTUnionCard(tunionOptions(BENCH_ISSUERS.cityDes, 200_000 + serial, balanceFen, 'hce'));
    case 'mohurd-cpu':
      return new VirtualMohurdCard(mohurdOptions(serial, balanceFen));
    case 'dual-tunion':
    case 'dual-mohurd': {
      const offset = kind === 'dual-tunion' ? 300_000 : 400_000;
      return new VirtualDualCard({
        tunion: tunionOptions(BENCH_ISSUERS.cityDes, offset + serial, balanceFen, 'card'),
        mohurd: mohurdOptions(offset + serial, balanceFen),
      });
    }
  }
}
