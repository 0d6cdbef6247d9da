export * from './signing.js';
export * from './packed-blacklist.js';
export * from './parameter-topics.js';
