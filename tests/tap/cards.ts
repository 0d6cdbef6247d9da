import { BENCH_ISSUERS, VirtualM1Card, VirtualTUnionCard, type BenchIssuer, type VirtualM1CardOptions, type VirtualTUnionCardOptions } from '@busfare/simulators';

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

let nextM1Serial = 1;

/** A valid bench M1 purse with 10 yuan and a fresh UID, unless the overrides say otherwise. */
export function makeM1Card(overrides: Partial<VirtualM1CardOptions> = {}): VirtualM1Card {
  const serial = nextM1Serial++;
  return new VirtualM1Card({
    uid: Uint8Array.of(0x5a, 0x00, (serial >> 8) & 0xff, serial & 0xff),
    cardSerial: String(10_000_000 + serial),
    balanceFen: 1000,
    cardTypeCode: 1,
    startDate: '20240101',
    expiryDate: '20301231',
    ...overrides,
  });
}
