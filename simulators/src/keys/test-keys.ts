import { type CipherFamily, fromHex, toHex } from '@busfare/shared-protocol';

/**
 * TEST keys for the bench issuers. They are made-up values for simulation only: no operator uses
 * them, and real issuer master keys must never be put into this repository.
 */

/** A card issuer as the bench models it: one purchase master key and one TAC master key. */
export interface BenchIssuer {
  /** EF15 issuer id, 8 bytes as upper-case hex: city code (2 bytes), institution (2), FFFFFFFF. */
  readonly issuerId: string;
  /** City code, the first 2 bytes of the issuer id, as hex. */
  readonly cityCode: string;
  readonly name: string;
  readonly algorithm: CipherFamily;
  /** Version of the purchase key the cards report in INITIALIZE FOR PURCHASE. */
  readonly keyVersion: number;
  /** 16-byte TEST master key from which each card's purchase key is diversified. */
  readonly purchaseMasterKey: Uint8Array;
  /** 16-byte TEST master key from which each card's TAC key is diversified. */
  readonly tacMasterKey: Uint8Array;
  /** Whether the bench city's back office has this issuer's TAC master key. */
  readonly local: boolean;
  /** Which e-purse application the issuer's cards carry; the PSAM keeps its keys in that DF. */
  readonly application: 'tunion' | 'mohurd';
  /** 16-byte TEST master key of the application-block key (PSAM 801A/80FA, card 841E). */
  readonly appBlockMasterKey: Uint8Array;
  /** MOHURD only: 16-byte TEST key that MACs the cards' 9-byte security identification code. */
  readonly verifyMasterKey?: Uint8Array;
}

/** City code of the bench city; the fare table lists it as the local issuer prefix. */
export const BENCH_LOCAL_CITY_CODE = '5810';
/** City code of the out-of-town T-Union issuer. */
export const BENCH_OUT_OF_TOWN_CITY_CODE = '2000';

type BenchIssuerFields = Omit<BenchIssuer, 'cityCode' | 'purchaseMasterKey' | 'tacMasterKey' | 'appBlockMasterKey' | 'verifyMasterKey' | 'application'> & {
  application?: BenchIssuer['application'];
  purchaseMasterKeyHex: string;
  tacMasterKeyHex: string;
  appBlockMasterKeyHex: string;
  verifyMasterKeyHex?: string;
};

function benchIssuer(fields: BenchIssuerFields): BenchIssuer {
  const { purchaseMasterKeyHex, tacMasterKeyHex, appBlockMasterKeyHex, verifyMasterKeyHex, ...rest } = fields;
  return Object.freeze({
    ...rest,
    application: fields.application ?? 'tunion',
    cityCode: fields.issuerId.slice(0, 4),
    purchaseMasterKey: fromHex(purchaseMasterKeyHex),
    tacMasterKey: fromHex(tacMasterKeyHex),
    appBlockMasterKey: fromHex(appBlockMasterKeyHex),
    ...(verifyMasterKeyHex ? { verifyMasterKey: fromHex(verifyMasterKeyHex) } : {}),
  });
}

export const BENCH_ISSUERS = Object.freeze({
  /** The bench city's own card company, 3DES cards. */
  cityDes: benchIssuer({
    issuerId: `${BENCH_LOCAL_CITY_CODE}0001FFFFFFFF`,
    name: 'Bench city transit card company (TEST, 3DES)',
    algorithm: 'des',
    keyVersion: 0x01,
    purchaseMasterKeyHex: '7E57C0DE00000001A1B2C3D4E5F60718',
    tacMasterKeyHex: '7E57C0DE00000002192A3B4C5D6E7F80',
    appBlockMasterKeyHex: '7E57C0DE0000000710203040506070A0',
    local: true,
  }),
  /** A second local issuer whose cards use SM4 (algorithm id 0x04). */
  citySm4: benchIssuer({
    issuerId: `${BENCH_LOCAL_CITY_CODE}0002FFFFFFFF`,
    name: 'Bench city SM4 card issuer (TEST, SM4)',
    algorithm: 'sm4',
    keyVersion: 0x02,
    purchaseMasterKeyHex: '7E57C0DE00000003F0E1D2C3B4A59687',
    tacMasterKeyHex: '7E57C0DE0000000411223344AABBCCDD',
    appBlockMasterKeyHex: '7E57C0DE0000000820304050607080B0',
    local: true,
  }),
  /**
   * An out-of-town T-Union issuer. The bench PSAM has its purchase key, as a real PSAM has
   * the interoperable purchase keys, but the city's back office does not get its TAC key.
   */
  outOfTown: benchIssuer({
    issuerId: `${BENCH_OUT_OF_TOWN_CITY_CODE}0001FFFFFFFF`,
    name: 'Out-of-town T-Union issuer (TEST, 3DES)',
    algorithm: 'des',
    keyVersion: 0x01,
    purchaseMasterKeyHex: '7E57C0DE0000000555667788990011AA',
    tacMasterKeyHex: '7E57C0DE00000006CAFEBABE0BADF00D',
    appBlockMasterKeyHex: '7E57C0DE0000000930405060708090C0',
    local: false,
  }),
  /**
   * The bench city's MOHURD "city union" card issuer. Its issuer id is the PSAM's second
   * diversification factor for MOHURD cards: the city code followed by FF 00 00 00 00 00.
   */
  mohurdCity: benchIssuer({
    issuerId: `${BENCH_LOCAL_CITY_CODE}FF0000000000`,
    name: 'Bench city MOHURD city union card issuer (TEST, 3DES)',
    application: 'mohurd',
    algorithm: 'des',
    keyVersion: 0x01,
    purchaseMasterKeyHex: '7E57C0DE0000000A0F1E2D3C4B5A6978',
    tacMasterKeyHex: '7E57C0DE0000000B8877665544332211',
    appBlockMasterKeyHex: '7E57C0DE0000000C405060708090A0D0',
    verifyMasterKeyHex: '7E57C0DE0000000D1357924680ACEBDF',
    local: true,
  }),
});

export type BenchIssuerName = keyof typeof BENCH_ISSUERS;

/** Every bench issuer, for the software PSAM's key table. */
export const ALL_BENCH_ISSUERS: readonly BenchIssuer[] = Object.freeze(Object.values(BENCH_ISSUERS));

/** One row of the back office's TAC key table, in a shape that survives JSON. */
export interface BackofficeTacKey {
  issuerId: string;
  algorithm: CipherFamily;
  tacMasterKeyHex: string;
  /** Always true: these keys exist only for the bench. */
  test: true;
}

/** Builds the TAC key table the bench back office is given: local issuers only. */
export function backofficeTacKeyTable(issuers: readonly BenchIssuer[] = ALL_BENCH_ISSUERS): BackofficeTacKey[] {
  return issuers
    .filter((issuer) => issuer.local)
    .map((issuer) => ({ issuerId: issuer.issuerId, algorithm: issuer.algorithm, tacMasterKeyHex: toHex(issuer.tacMasterKey), test: true as const }));
}

/** Finds the bench issuer with the given issuer id (hex, any case). */
export function findBenchIssuer(issuerId: string, issuers: readonly BenchIssuer[] = ALL_BENCH_ISSUERS): BenchIssuer | undefined {
  const wanted = issuerId.toUpperCase();
  return issuers.find((issuer) => issuer.issuerId === wanted);
}
