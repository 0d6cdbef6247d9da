import { type RecordedModelBuild, type RecordedModelRequest, buildRecordedModelParts, recordedModelBuffers } from './recorded-model-parts.js';
import { type TimetableModelBuild, type TimetableModelRequest, buildTimetableModelParts, timetableModelBuffers } from './timetable-model-parts.js';

/** The request and the build of each kind of model that the model worker builds. */
export interface ModelKinds {
  /** A model learned from the detected trips of the dates before a service date. */
  recorded: { request: RecordedModelRequest; build: RecordedModelBuild };
  /** A model learned from the timetable of the week before a service date. */
  timetable: { request: TimetableModelRequest; build: TimetableModelBuild };
}
export type ModelKind = keyof ModelKinds;
export type ModelRequest<K extends ModelKind> = ModelKinds[K]['request'];
export type ModelBuild<K extends ModelKind> = ModelKinds[K]['build'];

/** The data a model worker starts with: the kind of model and its request. */
export type ModelWorkerData = { [K in ModelKind]: { kind: K; request: ModelRequest<K> } }[ModelKind];

/** Builds the parts of one model and returns them with the ArrayBuffers a reply can transfer. */
export function buildModelParts(data: ModelWorkerData): { build: ModelBuild<ModelKind>; transfer: ArrayBuffer[] } {
  if (data.kind === 'recorded') {
    const build = buildRecordedModelParts(data.request);
    return { build, transfer: recordedModelBuffers(build) };
  }
  if (data.kind === 'timetable') {
    const build = buildTimetableModelParts(data.request);
    return { build, transfer: timetableModelBuffers(build) };
  }
  throw new TypeError(`invalid model kind ${String((data as { kind: unknown }).kind)}: expected recorded or timetable`);
}
