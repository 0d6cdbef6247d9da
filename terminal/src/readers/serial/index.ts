export * from './pn532-frame.js';
export * from './pn532-commands.js';
export * from './card-identity.js';
export * from './mifare-pseudo-apdu.js';
export * from './pn532-link.js';
export * from './serial-card-reader.js';
