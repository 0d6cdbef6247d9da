export * from './driver-shift.js';
export * from './shift-counters.js';
export * from './shift-store.js';
export * from './shift-record-sender.js';
export * from './service-choices.js';
export * from './driver-card-sign-on.js';
