import { BENCH_ISSUERS, type BenchIssuer } from '../keys/test-keys.js';
import { BENCH_CARD_TYPE_CODES, type BenchCardTypeName } from './card-types.js';
import { SeededRandom } from './seeded-random.js';
import { VirtualDualCard } from './virtual-dual-card.js';
import { VirtualM1Card } from './virtual-m1-card.js';
import { VirtualMohurdCard } from './virtual-mohurd-card.js';
import { type CardMediumKind, VirtualTUnionCard } from './virtual-tunion-card.js';

/**
 * Card technology of a population card: a T-Union card or phone, a MOHURD city union card, a
 * dual-application card (T-Union and MOHURD purses, paid from T-Union by default) or a MIFARE
 * Classic (M1) purse.
 */
export type PopulationCardKind = 'tunion' | 'mohurd' | 'dual' | 'm1';

/** Any card a population holds. */
export type PopulationDevice = VirtualTUnionCard | VirtualMohurdCard | VirtualDualCard | VirtualM1Card;

/** Kind of a population card, for bench reports and for choosing cards in tests. */
export interface CardProfile {
  kind: PopulationCardKind;
  /** Issuer of the T-Union or MOHURD purse. M1 cards have no bench issuer of this kind, so theirs is the local 3DES issuer. */
  issuer: BenchIssuer;
  cardType: BenchCardTypeName;
  medium: CardMediumKind;
  lowBalance: boolean;
  expired: boolean;
}

export interface PopulationCard<Card extends PopulationDevice = PopulationDevice> {
  card: Card;
  profile: CardProfile;
}

/** Shares of MOHURD, dual-application and M1 cards in a population, each from 0 to 1. */
export interface CardMix {
  mohurdShare: number;
  dualShare: number;
  m1Share: number;
}

/** One debit as a population card booked it, keyed as cleared records are: card number and counter before the debit. */
export interface PopulationCardDebit {
  asn: string;
  counter: number;
  amountFen: number;
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
  /** MOHURD, dual-application and M1 cards among the drawn cards. Without it every card is T-Union. */
  mix?: CardMix;
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
 * Builds a deterministic mix of virtual cards: mostly local ordinary T-Union cards, concession
 * card types, SIM and HCE phones, SM4 cards, out-of-town cards, and a few low-balance and expired
 * cards. With `mix` it adds MOHURD, dual-application and M1 cards. The same options always give
 * the same cards, ASNs and balances.
 */
export function createCardPopulation(options: CardPopulationOptions & { mix?: undefined }): PopulationCard<VirtualTUnionCard>[];
export function createCardPopulation(options: CardPopulationOptions): PopulationCard[];
export function createCardPopulation(options: CardPopulationOptions): PopulationCard[] {
  if (!Number.isInteger(options.count) || options.count < 0) throw new RangeError(`invalid card count ${options.count}: expected an integer of 0 or more`);
  if (options.mix) checkMix(options.mix);
  const random = new SeededRandom(options.seed);
  const issuers = options.issuers ?? BENCH_ISSUERS;
  const coverage = options.coverEveryKind === false ? [] : coverageProfiles(issuers, options.mix);
  const cards: PopulationCard[] = [];
  for (let index = 0; index < options.count; index += 1) {
    const profile = coverage[index] ?? drawProfile(random, issuers, options);
    cards.push({ card: buildCard(index, profile, random, options), profile });
  }
  return cards;
}

/** Card numbers of a card's purses: two for a dual-application card, one for the others. */
export function cardNumbersOf(card: PopulationDevice): string[] {
  return card instanceof VirtualDualCard ? card.applets.map((applet) => applet.asn) : [card.asn];
}

/** Lists every debit the card booked, over all its purses. M1 debits carry the purse counter before the debit. */
export function cardDebitsOf(card: PopulationDevice): PopulationCardDebit[] {
  return card.debits.map((debit) => ({ asn: debit.asn, counter: debit.counter, amountFen: debit.amountFen }));
}

function checkMix(mix: CardMix): void {
  for (const [name, share] of Object.entries(mix)) {
    if (!Number.isFinite(share) || share < 0 || share > 1) throw new RangeError(`invalid card mix ${name} ${share}: expected a share from 0 to 1`);
  }
  const total = mix.mohurdShare + mix.dualShare + mix.m1Share;
  if (total > 1) throw new RangeError(`invalid card mix: the MOHURD, dual and M1 shares add up to ${total}, more than 1`);
}

function coverageProfiles(issuers: NonNullable<CardPopulationOptions['issuers']>, mix: CardMix | undefined): CardProfile[] {
  const base: CardProfile = { kind: 'tunion', issuer: issuers.cityDes, cardType: 'ordinary', medium: 'card', lowBalance: false, expired: false };
  const byType = (Object.keys(BENCH_CARD_TYPE_CODES) as BenchCardTypeName[]).map((cardType) => ({ ...base, cardType }));
  const mixed: CardProfile[] = [];
  if (mix && mix.mohurdShare > 0) mixed.push({ ...base, kind: 'mohurd', issuer: BENCH_ISSUERS.mohurdCity });
  if (mix && mix.dualShare > 0) mixed.push({ ...base, kind: 'dual' });
  if (mix && mix.m1Share > 0) mixed.push({ ...base, kind: 'm1' });
  return [
    ...byType,
    { ...base, medium: 'sim' },
    { ...base, medium: 'hce' },
    { ...base, issuer: issuers.citySm4 },
    { ...base, issuer: issuers.outOfTown },
    { ...base, lowBalance: true },
    { ...base, expired: true },
    ...mixed,
  ];
}

function drawProfile(random: SeededRandom, issuers: NonNullable<CardPopulationOptions['issuers']>, options: CardPopulationOptions): CardProfile {
  // Without a mix no number is drawn here, so T-Union-only populations keep their cards.
  if (options.mix) {
    const { mohurdShare, dualShare, m1Share } = options.mix;
    const kind = random.weighted<PopulationCardKind>([
      ['mohurd', mohurdShare],
      ['dual', dualShare],
      ['m1', m1Share],
      ['tunion', Math.max(0, 1 - mohurdShare - dualShare - m1Share)],
    ]);
    if (kind !== 'tunion') {
      const lowBalance = random.next() < (options.lowBalanceShare ?? 0.04);
      const issuer = kind === 'mohurd' ? BENCH_ISSUERS.mohurdCity : issuers.cityDes;
      return { kind, issuer, cardType: 'ordinary', medium: 'card', lowBalance, expired: false };
    }
  }
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
  return { kind: 'tunion', issuer, cardType, medium, lowBalance, expired };
}

function buildCard(index: number, profile: CardProfile, random: SeededRandom, options: CardPopulationOptions): PopulationDevice {
  switch (profile.kind) {
    case 'tunion':
      return buildTUnionCard(index, profile, random, options);
    case 'mohurd':
      return new VirtualMohurdCard({ ...mohurdOptions(index, profile, random, options), label: `card-${String(index + 1).padStart(5, '0')} mohurd` });
    case 'dual':
      return new VirtualDualCard({
        tunion: tunionOptions(index, profile, random, options),
        mohurd: mohurdOptions(index, { ...profile, issuer: BENCH_ISSUERS.mohurdCity }, random, options),
        label: `card-${String(index + 1).padStart(5, '0')} dual`,
        ...(options.randomBytes ? { randomBytes: options.randomBytes } : {}),
      });
    case 'm1':
      return buildM1Card(index, profile, random, options);
  }
}

function initialBalance(profile: CardProfile, random: SeededRandom): number {
  return profile.lowBalance ? random.integer(0, 150) : random.integer(500, 20_000);
}

function tunionOptions(index: number, profile: CardProfile, random: SeededRandom, options: CardPopulationOptions) {
  const { issuer } = profile;
  return {
    // ASN: city code (4 digits) | institution (4) | serial (12); the right 16 digits stay unique per issuer.
    asn: `${issuer.cityCode}${issuer.issuerId.slice(4, 8)}${String(index + 1).padStart(12, '0')}`,
    issuerId: issuer.issuerId,
    balanceFen: initialBalance(profile, random),
    cardTypeCode: BENCH_CARD_TYPE_CODES[profile.cardType],
    algorithm: issuer.algorithm,
    keyVersion: issuer.keyVersion,
    purchaseMasterKey: issuer.purchaseMasterKey,
    tacMasterKey: issuer.tacMasterKey,
    appBlockMasterKey: issuer.appBlockMasterKey,
    startDate: options.startDate ?? '20240101',
    expiryDate: options.expiryDate ?? '20341231',
  };
}

function mohurdOptions(index: number, profile: CardProfile, random: SeededRandom, options: CardPopulationOptions) {
  const issuer = BENCH_ISSUERS.mohurdCity;
  return {
    // MOHURD application serial: city code (4 digits) | serial (12).
    asn: `${issuer.cityCode}${String(index + 1).padStart(12, '0')}`,
    cityCode: issuer.cityCode,
    balanceFen: initialBalance(profile, random),
    cardTypeCode: BENCH_CARD_TYPE_CODES[profile.cardType],
    algorithm: issuer.algorithm,
    keyVersion: issuer.keyVersion,
    purchaseMasterKey: issuer.purchaseMasterKey,
    tacMasterKey: issuer.tacMasterKey,
    verifyMasterKey: issuer.verifyMasterKey!,
    appBlockMasterKey: issuer.appBlockMasterKey,
    startDate: options.startDate ?? '20240101',
    expiryDate: options.expiryDate ?? '20341231',
    ...(options.randomBytes ? { randomBytes: options.randomBytes } : {}),
  };
}

function buildM1Card(index: number, profile: CardProfile, random: SeededRandom, options: CardPopulationOptions): VirtualM1Card {
  const serial = index + 1;
  return new VirtualM1Card({
    // 4-byte UID: 0x4E, then the serial's low 24 bits, unique for populations below 16 million cards.
    uid: Uint8Array.of(0x4e, (serial >>> 16) & 0xff, (serial >>> 8) & 0xff, serial & 0xff),
    cardSerial: String(serial % 100_000_000).padStart(8, '0'),
    balanceFen: initialBalance(profile, random),
    cardTypeCode: BENCH_CARD_TYPE_CODES[profile.cardType],
    startDate: options.startDate ?? '20240101',
    expiryDate: options.expiryDate ?? '20341231',
    label: `card-${String(serial).padStart(5, '0')} m1`,
  });
}

function buildTUnionCard(index: number, profile: CardProfile, random: SeededRandom, options: CardPopulationOptions): VirtualTUnionCard {
  const { issuer } = profile;
  const serial = String(index + 1).padStart(5, '0');
  return new VirtualTUnionCard({
    ...tunionOptions(index, profile, random, options),
    medium: profile.medium,
    ...(profile.expired ? { startDate: EXPIRED_START_DATE, expiryDate: EXPIRED_EXPIRY_DATE } : {}),
    label: `card-${serial} ${profile.cardType} ${profile.medium} ${issuer.algorithm}${issuer.local ? '' : ' out-of-town'}`,
    randomBytes: options.randomBytes,
  });
}
