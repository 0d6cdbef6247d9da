import type { FastifyInstance } from 'fastify';
import { maskCardNumber } from '../security/card-masking.js';
import './ops-session.js';

/** JSON keys that carry a card number: `asn`, `lostAsn`, `replacementAsn` and the like. */
const CARD_NUMBER_KEY = /asn$/i;

/**
 * Masks card numbers in the JSON API's responses to an operator of the viewer role, who may see
 * counts and amounts but not whole card numbers. Operators and administrators see them whole,
 * because customer service needs them.
 * The HTML pages under /ops mask the same fields through `maskCardFields` before rendering.
 */
export function registerViewerMasking(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.operator?.role !== 'viewer' || typeof payload !== 'string') return payload;
    if (!String(reply.getHeader('content-type') ?? '').includes('json')) return payload;
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      return payload;
    }
    return JSON.stringify(maskCardFields(parsed));
  });
}

/** Returns a copy of a JSON value with every string under a card-number key masked. */
export function maskCardFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskCardFields);
  if (typeof value !== 'object' || value === null) return value;
  const masked: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    masked[key] = CARD_NUMBER_KEY.test(key) && typeof field === 'string' ? maskCardNumber(field) : maskCardFields(field);
  }
  return masked;
}
