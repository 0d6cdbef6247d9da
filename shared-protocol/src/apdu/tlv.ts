/** A BER-TLV data object as used in FCI templates. */
export interface Tlv {
  tag: number;
  value: Uint8Array;
  children?: Tlv[];
}

export class TlvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlvError';
  }
}

/** Parses BER-TLV objects; constructed tags (bit 6 of the first tag byte) are parsed recursively. */
export function parseTlv(bytes: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const first = bytes[offset] ?? 0;
    // 00 and FF are padding between objects.
    if (first === 0x00 || first === 0xff) {
      offset += 1;
      continue;
    }
    let tag = first;
    offset += 1;
    if ((first & 0x1f) === 0x1f) {
      let next: number;
      do {
        if (offset >= bytes.length) throw new TlvError('TLV tag runs past the end of the data');
        next = bytes[offset] ?? 0;
        tag = (tag << 8) | next;
        offset += 1;
      } while ((next & 0x80) !== 0 && tag < 0xffffff);
    }
    if (offset >= bytes.length) throw new TlvError(`TLV tag ${tag.toString(16)} has no length`);
    let length = bytes[offset] ?? 0;
    offset += 1;
    if (length & 0x80) {
      const count = length & 0x7f;
      if (count === 0 || count > 2 || offset + count > bytes.length) throw new TlvError(`TLV tag ${tag.toString(16)} has an invalid length field`);
      length = 0;
      for (let i = 0; i < count; i += 1) length = (length << 8) | (bytes[offset + i] ?? 0);
      offset += count;
    }
    if (offset + length > bytes.length) {
      throw new TlvError(`TLV tag ${tag.toString(16).toUpperCase()} announces ${length} bytes but only ${bytes.length - offset} remain`);
    }
    const value = bytes.subarray(offset, offset + length);
    offset += length;
    const constructed = ((tag >>> (8 * (byteLength(tag) - 1))) & 0x20) !== 0;
    out.push(constructed ? { tag, value, children: parseTlv(value) } : { tag, value });
  }
  return out;
}

/** Depth-first search for the first object with the tag. */
export function findTlv(objects: Tlv[], tag: number): Tlv | undefined {
  for (const object of objects) {
    if (object.tag === tag) return object;
    if (object.children) {
      const found = findTlv(object.children, tag);
      if (found) return found;
    }
  }
  return undefined;
}

export function findAllTlv(objects: Tlv[], tag: number): Tlv[] {
  const found: Tlv[] = [];
  for (const object of objects) {
    if (object.tag === tag) found.push(object);
    if (object.children) found.push(...findAllTlv(object.children, tag));
  }
  return found;
}

export function encodeTlv(tag: number, value: Uint8Array): Uint8Array {
  const tagBytes: number[] = [];
  for (let shift = (byteLength(tag) - 1) * 8; shift >= 0; shift -= 8) tagBytes.push((tag >>> shift) & 0xff);
  const lengthBytes = value.length < 0x80 ? [value.length] : value.length < 0x100 ? [0x81, value.length] : [0x82, value.length >>> 8, value.length & 0xff];
  return Uint8Array.from([...tagBytes, ...lengthBytes, ...value]);
}

function byteLength(tag: number): number {
  if (tag > 0xffff) return 3;
  if (tag > 0xff) return 2;
  return 1;
}
