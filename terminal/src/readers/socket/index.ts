export * from './reader-link-protocol.js';
export * from './socket-reader-link.js';
