export * from './recordings.js';
export * from './route-replay.js';
