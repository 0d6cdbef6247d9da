import { BENCH_ISSUERS, type BenchIssuer } from '../keys/test-keys.js';
import { BENCH_CARD_TYPE_CODES, type BenchCardTypeName } from './card-types.js';
import { SeededRandom } from './seeded-random.js';
import { type CardMediumKind, VirtualTUnionCard } from './virtual-tunion-card.js';

/** Kind of a population card, for bench reports and for choosing cards in tests. */
export interface CardProfile {
  issuer: BenchIssuer;
  cardType: BenchCardTypeName;
  medium: CardMediumKind;
  lowBalance: boolean;
  expired: boolean;
}

export interface PopulationCard {
  card: VirtualTUnionCard;
  profile: CardProfile;
}

export interface CardPopulationOptions {
  count: number;
  seed: number;
  /** Issuers to draw from. Default: the bench issuers. */
  issuers?: {
    cityDes: BenchIssuer;
    citySm4: BenchIssuer;
    outOfTown: BenchIssuer;
  };
  /** Shares of the population, each from 0 to 1; the rest are local 3DES cards. */
  sm4Share?: number;
  outOfTownShare?: number;
  simShare?: number;
  hceShare?: number;
  lowBalanceShare?: number;
  expiredShare?: number;
  /** Start the population with one card of every profile kind, so small runs still cover them. Default true. */
  coverEveryKind?: boolean;
  /** Start and expiry dates of valid cards, YYYYMMDD. */
  startDate?: string;
  expiryDate?: string;
  /** Source of the cards' pseudo-random numbers; default node:crypto. */
  randomBytes?: (length: number) => Uint8Array;
}

/** Relative weights of the concession card types among local physical cards. */
const LOCAL_CARD_TYPE_WEIGHTS: readonly (readonly [BenchCardTypeName, number])[] = [
  ['ordinary', 70],
  ['student', 10],
  ['senior', 9],
  ['disabled', 3],
  ['staff', 4],
  ['monthly', 4],
];

const EXPIRED_START_DATE = '20150101';
const EXPIRED_EXPIRY_DATE = '20201231';

/**
 * Builds a deterministic mix of virtual T-Union cards: mostly local ordinary cards, concession
 * card types, SIM and HCE phones, SM4 cards, out-of-town cards, and a few low-balance and expired
 * cards. The same options always give the same cards, ASNs and balances.
 */
export function createCardPopulation(options: CardPopulationOptions): PopulationCard[] {
  if (!Number.isInteger(options.count) || options.count < 0) throw new RangeError(`invalid card count ${options.count}: expected an integer of 0 or more`);
  const random = new SeededRandom(options.seed);
  const issuers = options.issuers ?? BENCH_ISSUERS;
  const coverage = options.coverEveryKind === false ? [] : coverageProfiles(issuers);
  const cards: PopulationCard[] = [];
  for (let index = 0; index < options.count; index += 1) {
    const profile = coverage[index] ?? drawProfile(random, issuers, options);
    cards.push({ card: buildCard(index, profile, random, options), profile });
  }
  return cards;
}

function coverageProfiles(issuers: NonNullable<CardPopulationOptions['issuers']>): CardProfile[] {
  const base = { issuer: issuers.cityDes, cardType: 'ordinary' as BenchCardTypeName, medium: 'card' as CardMediumKind, lowBalance: false, expired: false };
  const byType = (Object.keys(BENCH_CARD_TYPE_CODES) as BenchCardTypeName[]).map((cardType) => ({ ...base, cardType }));
  return [
    ...byType,
    { ...base, medium: 'sim' },
    { ...base, medium: 'hce' },
    { ...base, issuer: issuers.citySm4 },
    { ...base, issuer: issuers.outOfTown },
    { ...base, lowBalance: true },
    { ...base, expired: true },
  ];
}

function drawProfile(random: SeededRandom, issuers: NonNullable<CardPopulationOptions['issuers']>, options: CardPopulationOptions): CardProfile {
  const sm4 = options.sm4Share ?? 0.1;
  const outOfTown = options.outOfTownShare ?? 0.08;
  const issuer = random.weighted([
    [issuers.citySm4, sm4],
    [issuers.outOfTown, outOfTown],
    [issuers.cityDes, Math.max(0, 1 - sm4 - outOfTown)],
  ]);
  const sim = options.simShare ?? 0.05;
  const hce = options.hceShare ?? 0.07;
  const medium = random.weighted<CardMediumKind>([
    ['sim', sim],
    ['hce', hce],
    ['card', Math.max(0, 1 - sim - hce)],
  ]);
  // The bench issues concession card types on local physical cards only.
  const cardType = medium === 'card' && issuer.local ? random.weighted(LOCAL_CARD_TYPE_WEIGHTS) : 'ordinary';
  const lowBalance = random.next() < (options.lowBalanceShare ?? 0.04);
  const expired = random.next() < (options.expiredShare ?? 0.01);
  return { issuer, cardType, medium, lowBalance, expired };
}

function buildCard(index: number, profile: CardProfile, random: SeededRandom, options: CardPopulationOptions): VirtualTUnionCard {
  const { issuer } = profile;
  // ASN: city code (4 digits) | institution (4) | serial (12); the right 16 digits stay unique per issuer.
  const asn = `${issuer.cityCode}${issuer.issuerId.slice(4, 8)}${String(index + 1).padStart(12, '0')}`;
  const balanceFen = profile.lowBalance ? random.integer(0, 150) : random.integer(500, 20_000);
  const serial = String(index + 1).padStart(5, '0');
  return new VirtualTUnionCard({
    asn,
    issuerId: issuer.issuerId,
    balanceFen,
    cardTypeCode: BENCH_CARD_TYPE_CODES[profile.cardType],
    algorithm: issuer.algorithm,
    keyVersion: issuer.keyVersion,
    purchaseMasterKey: issuer.purchaseMasterKey,
    tacMasterKey: issuer.tacMasterKey,
    appBlockMasterKey: issuer.appBlockMasterKey,
    medium: profile.medium,
    startDate: profile.expired ? EXPIRED_START_DATE : (options.startDate ?? '20240101'),
    expiryDate: profile.expired ? EXPIRED_EXPIRY_DATE : (options.expiryDate ?? '20341231'),
    label: `card-${serial} ${profile.cardType} ${profile.medium} ${issuer.algorithm}${issuer.local ? '' : ' out-of-town'}`,
    randomBytes: options.randomBytes,
  });
}
