export * from './ports/index.js';
export * from './store/transaction-store.js';
export * from './logger.js';
