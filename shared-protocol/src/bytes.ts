/** Byte helpers shared by the card codecs, the simulators and the back office. */

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new TypeError(`invalid hex string "${hex}": expected an even number of hex digits`);
  }
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export function u16be(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`u16 out of range: ${value}`);
  return Uint8Array.of(value >>> 8, value & 0xff);
}

export function u24be(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffff) throw new RangeError(`u24 out of range: ${value}`);
  return Uint8Array.of(value >>> 16, (value >>> 8) & 0xff, value & 0xff);
}

export function u32be(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`u32 out of range: ${value}`);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

export function readU16be(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] ?? 0) << 8) | (bytes[offset + 1] ?? 0);
}

export function readU24be(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] ?? 0) << 16) | ((bytes[offset + 1] ?? 0) << 8) | (bytes[offset + 2] ?? 0);
}

export function readU32be(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset);
}

/** Encodes a string of decimal digits as packed BCD, two digits a byte. */
export function bcdFromDigits(digits: string): Uint8Array {
  if (!/^\d*$/.test(digits) || digits.length % 2 !== 0) {
    throw new TypeError(`invalid BCD digits "${digits}": expected an even number of decimal digits`);
  }
  return fromHex(digits);
}

/** Decodes packed BCD; nibbles above 9 (such as the F padding of some card numbers) come out as hex letters. */
export function bcdToDigits(bytes: Uint8Array): string {
  return toHex(bytes);
}

export function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new RangeError(`xor of unequal lengths ${a.length} and ${b.length}`);
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i += 1) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

export function notBytes(a: Uint8Array): Uint8Array {
  return a.map((value) => ~value & 0xff);
}
