export * from './rider-display.js';
export * from './recording-rider-feedback.js';
export * from './espeak-rider-feedback.js';
export * from './prompt-audio.js';
export * from './beep-tones.js';
