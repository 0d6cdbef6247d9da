export * from './driver-alerts.js';
export * from './driver-screen-state.js';
export * from './driver-screen-server.js';
export * from './driver-page.js';
export * from './driver-screen-service.js';
