import type { ModelName } from '../models/arrival-model.js';
import { HORIZON_BANDS, type HorizonBand, horizonBandOf, isWithinCaltrans } from './horizon-bands.js';

/** One line of the arrivals-eval report. */
export interface BandReport {
  model: ModelName;
  horizonMin: HorizonBand;
  n: number;
  maeS: number;
  rmseS: number;
  biasS: number;
  withinCaltrans: number;
}

interface BandSums {
  n: number;
  absolute: number;
  squared: number;
  signed: number;
  within: number;
}

/** Accumulates prediction errors (predicted − actual) per model and horizon band. */
export class ErrorTable {
  private readonly sums = new Map<string, BandSums>();
  private readonly models: ModelName[] = [];

  /** Adds one prediction; horizonS and actualS are both the actual travel time from the prediction time. */
  add(model: ModelName, horizonS: number, predictedS: number, actualS: number): void {
    const band = horizonBandOf(horizonS);
    if (band === undefined) return;
    if (!this.models.includes(model)) this.models.push(model);
    const key = `${model}|${band}`;
    let sums = this.sums.get(key);
    if (!sums) {
      sums = { n: 0, absolute: 0, squared: 0, signed: 0, within: 0 };
      this.sums.set(key, sums);
    }
    const error = predictedS - actualS;
    sums.n += 1;
    sums.absolute += Math.abs(error);
    sums.squared += error * error;
    sums.signed += error;
    if (isWithinCaltrans(horizonS, predictedS, actualS)) sums.within += 1;
  }

  /** Returns one report line per model (in the order first added) and band, bands without predictions left out. */
  reports(): BandReport[] {
    const lines: BandReport[] = [];
    for (const model of this.models) {
      for (const band of HORIZON_BANDS) {
        const sums = this.sums.get(`${model}|${band}`);
        if (!sums) continue;
        lines.push({
          model,
          horizonMin: band,
          n: sums.n,
          maeS: round(sums.absolute / sums.n),
          rmseS: round(Math.sqrt(sums.squared / sums.n)),
          biasS: round(sums.signed / sums.n),
          withinCaltrans: Math.round((sums.within / sums.n) * 10_000) / 10_000,
        });
      }
    }
    return lines;
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
