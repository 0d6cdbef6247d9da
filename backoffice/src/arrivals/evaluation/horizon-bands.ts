/** Horizon bands of the evaluation report, in minutes: [0,5), [5,10), [10,20), [20,30]. */
export const HORIZON_BANDS = ['0-5', '5-10', '10-20', '20-30'] as const;
export type HorizonBand = (typeof HORIZON_BANDS)[number];

/** Longest horizon that is evaluated, in seconds. */
export const MAX_HORIZON_S = 30 * 60;

/** Returns the band of a horizon in seconds, or undefined beyond 30 minutes. */
export function horizonBandOf(horizonS: number): HorizonBand | undefined {
  const minutes = horizonS / 60;
  if (minutes < 0) return undefined;
  if (minutes < 5) return '0-5';
  if (minutes < 10) return '5-10';
  if (minutes < 20) return '10-20';
  if (minutes <= 30) return '20-30';
  return undefined;
}

/**
 * Returns whether a prediction is inside the Caltrans acceptable range for a horizon of t minutes:
 * −60·ln(t + 1.3) < actual − predicted < 60·ln(t + 1.5) seconds.
 */
export function isWithinCaltrans(horizonS: number, predictedS: number, actualS: number): boolean {
  const minutes = horizonS / 60;
  const lateness = actualS - predictedS;
  return -60 * Math.log(minutes + 1.3) < lateness && lateness < 60 * Math.log(minutes + 1.5);
}
