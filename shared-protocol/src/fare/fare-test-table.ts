import { fareTableBodySchema, type FareTableBody } from '../schemas/fare-table.js';

/**
 * The fare table the engine tests run against. Monday 2026-01-05 is a weekday, 2026-01-10 a
 * Saturday, 2026-10-01 a holiday, and Saturday 2026-10-10 a make-up working day.
 */
export function testFareTable(overrides: Partial<FareTableBody> = {}): FareTableBody {
  return fareTableBodySchema.parse({
    currency: 'CNY',
    flatFareFen: 200,
    routeFareFen: { '8': 100 },
    cardTypes: {
      ordinary: { allowed: true, ratePercent: 100, companionsAllowed: 3 },
      student: { allowed: true, ratePercent: 50 },
      senior: { allowed: true, ratePercent: 50, repeatTapWindowSeconds: 1200 },
      disabled: { allowed: true, ratePercent: 0 },
      staff: { allowed: true, ratePercent: 0, routes: ['1', '2'] },
      monthly: { allowed: true, ratePercent: 100, pass: true, companionsAllowed: 1 },
      'tunion-out-of-town': { allowed: true, ratePercent: 100 },
    },
    cardTypeByCode: { '1': 'ordinary', '2': 'student', '3': 'senior', '4': 'disabled', '5': 'staff', '6': 'monthly' },
    localIssuerPrefixes: ['3104'],
    lowBalanceWarningFen: 500,
    repeatTapWindowSeconds: 300,
    periods: [
      { name: 'senior off-peak', dayTypes: ['weekday'], from: '09:00', to: '16:00', cardTypes: ['senior'], ratePercent: 0 },
      { name: 'senior rest days', dayTypes: ['weekend', 'holiday'], from: '05:00', to: '23:00', cardTypes: ['senior'], ratePercent: 0 },
      { name: 'early bird', dayTypes: ['weekday'], from: '05:00', to: '06:30', cardTypes: ['ordinary'], ratePercent: 50 },
      { name: 'student night', dayTypes: ['weekday', 'weekend', 'holiday'], from: '23:00', to: '05:00', cardTypes: ['student'], allowed: false },
    ],
    calendar: { holidays: ['2026-10-01'], workdays: ['2026-10-10'] },
    transfer: {
      windowMinutes: 60,
      maxTransfers: 2,
      cardTypes: ['ordinary', 'student', 'monthly'],
      steps: [{ ratePercent: 50 }, { discountFen: 100 }],
    },
    sectionRoutes: {
      '30': {
        bands: [
          { maxStops: 3, fareFen: 100 },
          { maxStops: 8, fareFen: 200 },
          { maxStops: 99, fareFen: 300 },
        ],
        stops: {
          '0': ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8', 'S9', 'S10', 'S11', 'S12'],
          '1': ['S12', 'S11', 'S10', 'S9', 'S8', 'S7', 'S6', 'S5', 'S4', 'S3', 'S2', 'S1'],
        },
        maxJourneyMinutes: 180,
      },
      L1: { bands: [{ maxStops: 2, fareFen: 100 }, { maxStops: 10, fareFen: 150 }], stops: { '0': ['A', 'B', 'C', 'D', 'A'] } },
      R40: { bands: [{ maxStops: 2, fareFen: 100 }, { maxStops: 10, fareFen: 200 }] },
    },
    ...overrides,
  });
}
