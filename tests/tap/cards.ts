import { BENCH_ISSUERS, VirtualTUnionCard, type BenchIssuer, type VirtualTUnionCardOptions } from '@busfare/simulators';

let nextAsn = 1;

/** A valid local 3DES card with 10 yuan, unless the overrides say otherwise. */
export function makeCard(overrides: Partial<VirtualTUnionCardOptions> & { issuer?: BenchIssuer } = {}): VirtualTUnionCard {
  const issuer = overrides.issuer ?? BENCH_ISSUERS.cityDes;
  const asn = overrides.asn ?? `5810${String(nextAsn++).padStart(16, '0')}`;
  return new VirtualTUnionCard({
    asn,
    issuerId: issuer.issuerId,
    balanceFen: 1000,
    cardTypeCode: 1,
    algorithm: issuer.algorithm,
    purchaseMasterKey: issuer.purchaseMasterKey,
    tacMasterKey: issuer.tacMasterKey,
    appBlockMasterKey: issuer.appBlockMasterKey,
    keyVersion: issuer.keyVersion,
    medium: 'card',
    startDate: '20240101',
    expiryDate: '20301231',
    ...overrides,
  });
}
