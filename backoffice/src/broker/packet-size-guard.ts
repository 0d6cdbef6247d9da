import type { Duplex } from 'node:stream';

/** Bytes an MQTT PUBLISH adds to its payload at most: topic length field, topic and packet id. */
export const PUBLISH_OVERHEAD_BYTES = 2 + 65_535 + 2;

interface GuardState {
  /** Largest remaining length (variable header and payload) accepted, or undefined for no limit. */
  limit: number | undefined;
  phase: 'type' | 'length' | 'body';
  length: number;
  multiplier: number;
  lengthBytes: number;
  remaining: number;
}

const guards = new WeakMap<Duplex, GuardState>();

/**
 * Watches the MQTT fixed headers that a connection sends and destroys it as soon as one declares
 * a packet longer than the current limit, before the packet's body is read into memory. aedes
 * itself buffers a whole packet before any hook runs. It wraps the socket's read(), which aedes
 * uses to pull data, so the guard reads every byte in order.
 */
export function guardPacketSize(socket: Duplex, limit: number, onOversize: (declaredBytes: number) => void): void {
  const state: GuardState = { limit, phase: 'type', length: 0, multiplier: 1, lengthBytes: 0, remaining: 0 };
  guards.set(socket, state);
  const read = socket.read.bind(socket);
  socket.read = (size?: number) => {
    const chunk: unknown = read(size);
    if (!Buffer.isBuffer(chunk)) return chunk;
    const oversize = measure(state, chunk);
    if (oversize === undefined) return chunk;
    onOversize(oversize);
    socket.destroy();
    return null;
  };
}

/** Changes the limit of a guarded connection, for example once it has authenticated. Undefined lifts it. */
export function setPacketSizeLimit(socket: Duplex, limit: number | undefined): void {
  const state = guards.get(socket);
  if (state) state.limit = limit;
}

/** Advances the header parser over a chunk and returns the declared length that broke the limit, if any. */
function measure(state: GuardState, chunk: Buffer): number | undefined {
  let index = 0;
  while (index < chunk.length) {
    if (state.phase === 'type') {
      state.phase = 'length';
      state.length = 0;
      state.multiplier = 1;
      state.lengthBytes = 0;
      index += 1;
    } else if (state.phase === 'length') {
      const byte = chunk[index]!;
      index += 1;
      state.length += (byte & 0x7f) * state.multiplier;
      state.multiplier *= 128;
      state.lengthBytes += 1;
      if (state.limit !== undefined && state.length > state.limit) return state.length;
      if ((byte & 0x80) === 0) {
        state.remaining = state.length;
        state.phase = state.remaining > 0 ? 'body' : 'type';
      } else if (state.lengthBytes === 4) {
        // A fifth length byte is malformed MQTT, which mqtt-packet rejects too.
        return state.length;
      }
    } else {
      const skipped = Math.min(state.remaining, chunk.length - index);
      index += skipped;
      state.remaining -= skipped;
      if (state.remaining === 0) state.phase = 'type';
    }
  }
  return undefined;
}
