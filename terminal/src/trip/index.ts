export * from './service-stops.js';
export * from './stop-tracker.js';
