import { BENCH_ISSUERS, type BenchIssuer } from '../keys/test-keys.js';
import type { VirtualCpuCard } from '../cards/virtual-cpu-card.js';
import { VirtualDualCard } from '../cards/virtual-dual-card.js';
import { VirtualMohurdCard } from '../cards/virtual-mohurd-card.js';
import { type CardMediumKind, VirtualTUnionCard } from '../cards/virtual-tunion-card.js';

/** Every card kind the tearing sweep and the tap benchmark present. */
export const SWEEP_CARD_KINDS = ['tunion-cpu', 'tunion-sm4', 'tunion-sim', 'tunion-hce', 'mohurd-cpu', 'dual-tunion', 'dual-mohurd'] as const;
export type SweepCardKind = (typeof SWEEP_CARD_KINDS)[number];

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

/** A fresh ordinary card of the given kind; `serial` makes its ASN unique within the kind. */
export function createSweepCard(kind: SweepCardKind, serial: number, balanceFen = SWEEP_CARD_BALANCE_FEN): VirtualCpuCard {
  switch (kind) {
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
