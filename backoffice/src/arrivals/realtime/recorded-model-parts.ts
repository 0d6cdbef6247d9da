import type { HorizonBand } from '../evaluation/horizon-bands.js';
import { fitBusfareSettings } from '../models/busfare-fitting.js';
import { BusfareModel, type BusfareSettings, learnRecordedTerms } from '../models/busfare-model.js';
import { SignalPhases, type SignalPhasesParts } from '../models/signal-phases.js';
import { PairHistory, type PairHistoryParts } from '../travel-history.js';
import { readTripsBefore } from './detected-trip-store.js';
import { ownBuffers } from './transfer-buffers.js';

/** Fewest recorded service dates before a day's model learns from them rather than the timetable. */
export const MIN_RECORDED_DATES = 2;

/** Inputs of the build of one service date's learned model, which cross to a worker thread by structured clone. */
export interface RecordedModelRequest {
  /** Path of the detected-trip store file. */
  path: string;
  serviceDate: string;
  /** Service dates before serviceDate whose trips the model learns from. */
  historyDays: number;
  timeZone: string;
  /** Settings to build the model with. Without them the build fits them on the trips, as arrivals-eval does. */
  settings?: BusfareSettings;
}

/** The result of fitting the settings on the validation dates inside the trips' dates. */
export interface RecordedModelFit {
  validationDates: string[];
  /** Validation MAE per band of H with the fitted coefficients, and of H alone, in seconds. */
  validationMaeS: Partial<Record<HorizonBand, number>>;
  historicalMaeS: Partial<Record<HorizonBand, number>>;
  signalScale: number;
  signalCarry: number;
  /** Wall time of the fit in milliseconds. */
  fitMs: number;
}

/** The parts of a learned BusfareModel, built where the trips were read and assembled by assembleRecordedModel(). */
export interface RecordedModelParts {
  /** The settings the parts were built with, given or fitted. */
  settings: BusfareSettings;
  /** The fit, when the settings were fitted. */
  fit?: RecordedModelFit;
  history: PairHistoryParts;
  /** Buses with a history log ratio, and each one's ratio at the same index. */
  vehicleIds: string[];
  vehicleLogRatios: Float64Array;
  signals: SignalPhasesParts | undefined;
}

/** Counts of a build, for its log line. */
export interface RecordedModelCounts {
  trips: number;
  dates: number;
  /** Wall time of reading the store and of building the parts, in milliseconds. */
  readMs: number;
  buildMs: number;
}

/** A build's result: the model's parts, or none when the trips cover fewer than MIN_RECORDED_DATES dates. */
export type RecordedModelBuild = ({ kind: 'model'; parts: RecordedModelParts } | { kind: 'too-few-dates' }) & RecordedModelCounts;

/**
 * Reads the trips of the request's dates from the store, on a read-only connection of its own.
 * Then builds the slow parts of their model: the settings (fitted unless the request gives them),
 * the pair history, each bus's history ratio and the signal phases. The worker thread runs this,
 * or the refresh thread where no worker script exists.
 */
export function buildRecordedModelParts(request: RecordedModelRequest): RecordedModelBuild {
  const readStarted = performance.now();
  const trips = readTripsBefore(request.path, request.serviceDate, request.historyDays, request.timeZone);
  const counts = { trips: trips.length, dates: new Set(trips.map((trip) => trip.serviceDate)).size, readMs: Math.round(performance.now() - readStarted), buildMs: 0 };
  if (counts.dates < MIN_RECORDED_DATES) return { kind: 'too-few-dates', ...counts };

  const buildStarted = performance.now();
  let { settings } = request;
  let fit: RecordedModelFit | undefined;
  if (!settings) {
    const fitted = fitBusfareSettings(trips);
    settings = fitted.settings;
    const { validationDates, validationMaeS, historicalMaeS } = fitted;
    fit = { validationDates, validationMaeS, historicalMaeS, signalScale: settings.signalScale, signalCarry: settings.signalCarry, fitMs: Math.round(performance.now() - buildStarted) };
  }
  const history = new PairHistory(trips);
  const terms = learnRecordedTerms(history, settings, trips);
  const vehicleIds = [...terms.busHistory.keys()];
  const parts: RecordedModelParts = { settings, ...(fit ? { fit } : {}), history: history.toParts(), vehicleIds, vehicleLogRatios: Float64Array.from(vehicleIds, (vehicleId) => terms.busHistory.get(vehicleId)!), signals: terms.signals?.toParts() };
  return { kind: 'model', parts, ...counts, buildMs: Math.round(performance.now() - buildStarted) };
}

/**
 * Returns the ArrayBuffers of a build's parts, for the transfer list of the message that carries
 * them. Each typed array of the parts has a buffer of its own (PairHistory.toParts() and
 * SignalPhases.toParts()), never a slice of a shared one.
 */
export function recordedModelBuffers(build: RecordedModelBuild): ArrayBuffer[] {
  if (build.kind !== 'model') return [];
  const { history, vehicleLogRatios, signals } = build.parts;
  const arrays = [history.pairStart, history.secondsOfDay, history.duration, history.date, vehicleLogRatios];
  if (signals) arrays.push(signals.cycleS, signals.originS, signals.concentration, signals.densityStart, signals.density);
  return ownBuffers(arrays);
}

/**
 * Assembles the model from a build's parts, with the settings they were built with. Its
 * predictions equal those of a BusfareModel built from the same trips and settings in one thread.
 * Throws a RangeError on parts whose lengths do not fit together, such as those of a worker script
 * of another build.
 */
export function assembleRecordedModel(parts: RecordedModelParts): BusfareModel {
  const { vehicleIds, vehicleLogRatios, settings } = parts;
  if (vehicleIds?.length !== vehicleLogRatios?.length) throw new RangeError(`invalid model parts: ${vehicleIds?.length} buses and ${vehicleLogRatios?.length} history ratios`);
  const busHistory = new Map(vehicleIds.map((vehicleId, index) => [vehicleId, vehicleLogRatios[index]!]));
  const signals = parts.signals === undefined ? undefined : new SignalPhases(parts.signals, settings.signals);
  return new BusfareModel(new PairHistory(parts.history), settings, { busHistory, signals });
}
