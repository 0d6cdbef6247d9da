import { type FareTableBody, fareTableBodySchema } from '@busfare/shared-protocol';

/**
 * Builds the bench's fare table: a flat 2-yuan fare, half fare for students, and free rides for
 * seniors, disabled riders and staff. Monthly passes pay full fare here because the pass itself
 * is their discount. Out-of-town T-Union cards pay full fare because they get no local concession.
 */
export function defaultFareTable(localIssuerPrefixes: readonly string[]): FareTableBody {
  return fareTableBodySchema.parse({
    currency: 'CNY',
    flatFareFen: 200,
    routeFareFen: {},
    cardTypes: {
      ordinary: { allowed: true, ratePercent: 100 },
      student: { allowed: true, ratePercent: 50 },
      senior: { allowed: true, ratePercent: 0 },
      disabled: { allowed: true, ratePercent: 0 },
      staff: { allowed: true, ratePercent: 0 },
      monthly: { allowed: true, ratePercent: 100 },
      'tunion-out-of-town': { allowed: true, ratePercent: 100 },
    },
    cardTypeByCode: { '1': 'ordinary', '2': 'student', '3': 'senior', '4': 'disabled', '5': 'staff', '6': 'monthly' },
    localIssuerPrefixes: [...localIssuerPrefixes],
    lowBalanceWarningFen: 500,
  });
}
