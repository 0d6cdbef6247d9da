export { BlacklistSet } from './blacklist-set.js';
