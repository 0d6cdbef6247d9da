/** ISO 7816-4 command APDUs in short form (Lc and Le up to 255/256). */
export interface CommandApduFields {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data?: Uint8Array;
  /** Expected response length; 0 means up to 256 bytes. Omitted means no Le byte. */
  le?: number;
}

export function buildApdu(fields: CommandApduFields): Uint8Array {
  const data = fields.data ?? new Uint8Array(0);
  if (data.length > 255) throw new RangeError(`APDU data of ${data.length} bytes does not fit a short APDU`);
  const header = [fields.cla, fields.ins, fields.p1, fields.p2];
  for (const [name, value] of [['CLA', fields.cla], ['INS', fields.ins], ['P1', fields.p1], ['P2', fields.p2]] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`${name} must be a byte, got ${value}`);
  }
  const parts: number[] = [...header];
  if (data.length > 0) parts.push(data.length, ...data);
  if (fields.le !== undefined) parts.push(fields.le & 0xff);
  return Uint8Array.from(parts);
}

/** Splits a command APDU into its fields, tolerating the four ISO 7816-4 short cases. */
export function parseCommandApdu(apdu: Uint8Array): Required<Omit<CommandApduFields, 'le'>> & { le?: number } {
  if (apdu.length < 4) throw new RangeError(`command APDU of ${apdu.length} bytes is shorter than its 4-byte header`);
  const [cla, ins, p1, p2] = apdu as unknown as [number, number, number, number];
  if (apdu.length === 4) return { cla, ins, p1, p2, data: new Uint8Array(0) };
  if (apdu.length === 5) return { cla, ins, p1, p2, data: new Uint8Array(0), le: apdu[4] ?? 0 };
  const lc = apdu[4] ?? 0;
  const data = apdu.subarray(5, 5 + lc);
  if (data.length !== lc) throw new RangeError(`command APDU announces Lc=${lc} but carries ${apdu.length - 5} bytes`);
  const rest = apdu.length - 5 - lc;
  if (rest === 0) return { cla, ins, p1, p2, data };
  if (rest === 1) return { cla, ins, p1, p2, data, le: apdu[5 + lc] ?? 0 };
  throw new RangeError(`command APDU has ${rest} bytes after its data; expected 0 or 1 (Le)`);
}
