import { z } from 'zod';
import { fenSchema } from './common.js';

/** Card types the fare policy knows. */
export const cardTypeSchema = z.enum(['ordinary', 'student', 'senior', 'disabled', 'staff', 'monthly', 'tunion-out-of-town']);

/** Weekday, weekend, or public holiday; the fare table's calendar moves dates between them. */
export const dayTypeSchema = z.enum(['weekday', 'weekend', 'holiday']);

const percentSchema = z.number().int().min(0).max(100);
const clockTimeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a local time of day HH:MM (00:00-23:59)');
const localDateSchema = z.iso.date();
export const routeIdSchema = z.string().min(1).max(32);
export const stopIdSchema = z.string().min(1).max(64);

export const cardTypeRuleSchema = z.object({
  /** Whether this card type may ride at all. */
  allowed: z.boolean(),
  /** Percentage of the list fare charged (100 = full fare, 0 = free). */
  ratePercent: percentSchema,
  /** A second tap of the same card on the same vehicle within this many seconds is a repeat tap; absent: the table's repeatTapWindowSeconds. */
  repeatTapWindowSeconds: z.number().int().min(0).max(86_400).optional(),
  /** Paid companion rides a card of this type may buy by tapping again within the repeat-tap window (0 = none). */
  companionsAllowed: z.number().int().min(0).max(9).optional(),
  /** Percentage of the list fare a companion pays (default 100: companions get no concession). */
  companionRatePercent: percentSchema.optional(),
  /** When present, the card type may ride only these routes. */
  routes: z.array(routeIdSchema).min(1).optional(),
  /** A period pass: rides are free while the pass on the card is valid. */
  pass: z.boolean().optional(),
  /** Handling of a pass card outside its pass validity: payment from the purse at ratePercent (default), or rejection. */
  passFallback: z.enum(['purse', 'refuse']).optional(),
});

export const fareRoundingSchema = z.object({
  /** up = ceil (what public reader code does), down = floor, nearest = half up. */
  mode: z.enum(['up', 'down', 'nearest']),
  /** Discounted fares are rounded to a multiple of this many fen (10 = whole jiao). */
  unitFen: z.number().int().min(1).max(100),
});

/**
 * A free or discounted period: between `from` (inclusive) and `to` (exclusive) local time on the
 * listed day types, the listed card types ride at `ratePercent` and/or are allowed or barred.
 * A period whose `to` is not after `from` runs past midnight. The first matching period wins.
 */
export const farePeriodSchema = z
  .object({
    name: z.string().min(1).max(64),
    dayTypes: z.array(dayTypeSchema).min(1),
    from: clockTimeSchema,
    to: clockTimeSchema,
    cardTypes: z.array(cardTypeSchema).min(1),
    ratePercent: percentSchema.optional(),
    allowed: z.boolean().optional(),
  })
  .refine((period) => period.ratePercent !== undefined || period.allowed !== undefined, { message: 'a period must set ratePercent, allowed or both' })
  .refine((period) => period.from !== period.to, { message: 'a period must not start and end at the same time', path: ['to'] });

export const transferStepSchema = z.object({
  /** Percentage of the card's fare charged for this transfer. */
  ratePercent: percentSchema.default(100),
  /** Fen taken off after the percentage (the charge never goes below 0). */
  discountFen: fenSchema.default(0),
});

/**
 * Transfer discounts: a journey tap within `windowMinutes` of the card's previous paid journey
 * tap, on another route, is the next transfer, up to `maxTransfers` in a row. `steps[i]` prices
 * transfer i + 1; transfers beyond the last step use the last step.
 */
export const transferRuleSchema = z.object({
  windowMinutes: z.number().int().min(1).max(1_440),
  maxTransfers: z.number().int().min(1).max(10),
  cardTypes: z.array(cardTypeSchema).min(1),
  /** Whether a tap on the same route as the previous one counts as a transfer. */
  sameRoute: z.boolean().default(false),
  steps: z.array(transferStepSchema).min(1),
});

export const sectionFareBandSchema = z.object({
  /** This band applies to journeys of at most this many stops (boarding stop to alighting stop). */
  maxStops: z.number().int().min(0).max(500),
  fareFen: fenSchema,
});

/**
 * A tap-on/tap-off route. The boarding tap records the stop and charges nothing, provided the
 * balance covers the longest journey from that stop. The alighting tap charges the band of the
 * number of stops travelled. A boarding that is never closed is charged at the next tap of the
 * card, as the longest journey from the boarding stop.
 */
export const sectionRouteSchema = z
  .object({
    bands: z.array(sectionFareBandSchema).min(1),
    /** Stop ids in travel order for direction "0" and "1"; absent: taken from the route data. */
    stops: z.partialRecord(z.enum(['0', '1']), z.array(stopIdSchema).min(2)).optional(),
    /** A boarding older than this is treated as a missing tap-off. */
    maxJourneyMinutes: z.number().int().min(1).max(1_440).default(240),
    /** Whether the card type's rate applies to the missing tap-off charge (usually not). */
    missingTapOffDiscount: z.boolean().default(false),
  })
  .superRefine((route, ctx) => {
    for (let index = 1; index < route.bands.length; index += 1) {
      if (route.bands[index]!.maxStops <= route.bands[index - 1]!.maxStops) {
        ctx.addIssue({ code: 'custom', path: ['bands', index, 'maxStops'], message: 'bands must be in increasing maxStops order' });
      }
    }
  });

/**
 * Fare table. A flat fare per route with a per-card-type rate; the charge is
 * ceil(listFare × rate / 100) fen, the rounding that public reader code applies. The optional
 * fields add rounding, repeat-tap windows, periods, a holiday calendar, transfer discounts and
 * tap-on/tap-off routes; a table without them charges flat fares only.
 */
export const fareTableBodySchema = z.object({
  currency: z.literal('CNY'),
  flatFareFen: fenSchema,
  /** Route-specific flat fares, by route id; other routes pay flatFareFen. */
  routeFareFen: z.record(z.string(), fenSchema).default({}),
  cardTypes: z.partialRecord(cardTypeSchema, cardTypeRuleSchema),
  /**
   * Card-type code from the card (EF15 byte 28 on T-Union cards) to card type. The code is one
   * byte in decimal, so a key above 255 would never match. "03" names the same byte as "3", and a
   * table may not name one byte twice.
   */
  cardTypeByCode: z.record(z.string().regex(/^\d{1,3}$/), cardTypeSchema).superRefine((codes, ctx) => {
    const keyOfByte = new Map<number, string>();
    for (const code of Object.keys(codes)) {
      const byte = Number(code);
      if (byte > 255) {
        ctx.addIssue({ code: 'custom', path: [code], message: `card-type code "${code}" matches no card: write a byte value from 0 to 255` });
        continue;
      }
      const other = keyOfByte.get(byte);
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: [code], message: `card-type code "${code}" names the same byte as "${other}": keep one of them` });
      keyOfByte.set(byte, code);
    }
  }),
  /** Cards issued outside these issuer-id prefixes are out-of-town T-Union cards. */
  localIssuerPrefixes: z.array(z.string().regex(/^[0-9A-F]{2,16}$/)).min(1),
  /**
   * City code (2 bytes as 4 hex digits) that the readers write as the acquirer city into a card's
   * transit record. Without it, acquirerCityCode() takes the first 4 digits of the first local issuer prefix.
   */
  acquirerCityCode: z.string().regex(/^[0-9A-F]{4}$/).optional(),
  /** The rider is told "请充值" when the balance after the fare is below this. */
  lowBalanceWarningFen: fenSchema,
  /** Rounding of discounted fares; absent: up to the fen. */
  rounding: fareRoundingSchema.optional(),
  /** Repeat-tap window of card types that set none, in seconds; absent: 0 (no repeat-tap check). */
  repeatTapWindowSeconds: z.number().int().min(0).max(86_400).optional(),
  periods: z.array(farePeriodSchema).optional(),
  /** Public holidays, and weekend dates that are working days (make-up days). */
  calendar: z.object({ holidays: z.array(localDateSchema).default([]), workdays: z.array(localDateSchema).default([]) }).optional(),
  transfer: transferRuleSchema.optional(),
  /** Tap-on/tap-off routes by route id; they take precedence over routeFareFen. */
  sectionRoutes: z.record(routeIdSchema, sectionRouteSchema).optional(),
  /** Which purse a card with both a T-Union and a MOHURD application pays from; absent: T-Union. */
  preferredApplication: z.enum(['tunion', 'mohurd']).optional(),
});

export type CardType = z.infer<typeof cardTypeSchema>;
export type DayType = z.infer<typeof dayTypeSchema>;
export type CardTypeRule = z.infer<typeof cardTypeRuleSchema>;
export type FarePeriod = z.infer<typeof farePeriodSchema>;
export type TransferRule = z.infer<typeof transferRuleSchema>;
export type SectionRoute = z.infer<typeof sectionRouteSchema>;
export type FareTableBody = z.infer<typeof fareTableBodySchema>;
