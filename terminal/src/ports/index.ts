export * from './card-reader.js';
export * from './apdu-transport.js';
export * from './secure-access-module.js';
export * from './position-source.js';
export * from './rider-feedback.js';
export * from './driver-screen.js';
export * from './clock.js';
