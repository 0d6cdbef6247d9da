/**
 * Reader models the terminal knows, matched on the PC/SC reader name that the driver reports
 * (pcsc-lite with libccid, or an IFD handler). The first entry whose pattern matches wins; a reader
 * that matches none gets UNKNOWN_READER_MODEL and works with the defaults.
 */
export interface ReaderModel {
  /** Short id for logs and the status topic. */
  id: string;
  /** Model name for people (logs, docs, `list-readers`). */
  description: string;
  /** Matches the PC/SC reader name, case-insensitively. */
  namePattern: RegExp;
  /** Which slot this name is: the contactless field, a contact PSAM slot, or a slot to ignore. */
  slot: 'contactless' | 'contact' | 'ignore';
  /** Largest response length to ask the driver for, Le included; short APDUs need 258. */
  maxResponseLength: number;
  /**
   * Delay before the first APDU after the card event, in ms. Some readers report the card before
   * the ISO 14443-4 activation has settled, so an immediate APDU fails.
   */
  settleMs: number;
  /** Facts that matter when installing or servicing this reader. */
  notes: string;
}

/**
 * The known models. Entries other than the vpcd virtual reader describe behaviour reported for
 * those readers with pcsc-lite and libccid.
 * NOTE: only the vpcd entries were checked in this repository's tests; the hardware entries' settle
 * times are conservative estimates, not measurements.
 */
export const READER_MODELS: readonly ReaderModel[] = [
  {
    id: 'vpcd',
    description: 'vsmartcard virtual reader (vpcd), used by tests and benches',
    namePattern: /^Virtual PCD \d\d 00$/i,
    slot: 'contactless',
    maxResponseLength: 258,
    settleMs: 0,
    notes: 'Slot 0 carries the virtual card. vpcd 3.3 (Debian 12) returns an empty response when the card leaves mid-APDU.',
  },
  {
    id: 'vpcd-slot1',
    description: 'second slot of the vsmartcard virtual reader, used for a virtual PSAM',
    namePattern: /^Virtual PCD \d\d 01$/i,
    slot: 'contact',
    maxResponseLength: 258,
    settleMs: 0,
    notes: 'vpcd always creates this slot; it stays empty unless a virtual PSAM connects to port 35964.',
  },
  {
    id: 'acr122u',
    description: 'ACS ACR122U',
    namePattern: /ACR122/i,
    slot: 'contactless',
    maxResponseLength: 258,
    settleMs: 20,
    notes: 'Contactless only, no SAM slot. Beeps on every card unless the buzzer is turned off with the escape command FF 00 52 00 00. nfc-pcsc wraps it in its ACR122Reader class.',
  },
  {
    id: 'acr1252u-sam',
    description: 'ACS ACR1252U, SAM slot',
    namePattern: /ACR1252.*SAM/i,
    slot: 'contact',
    maxResponseLength: 258,
    settleMs: 0,
    notes: 'The SAM slot shows as a separate PC/SC reader with "SAM" in its name.',
  },
  {
    id: 'acr1252u',
    description: 'ACS ACR1252U, contactless field',
    namePattern: /ACR1252/i,
    slot: 'contactless',
    maxResponseLength: 258,
    settleMs: 20,
    notes: 'Contactless field plus one SAM slot (a separate PC/SC reader).',
  },
  {
    id: 'omnikey-5422-contact',
    description: 'HID OMNIKEY 5422, contact slot',
    namePattern: /OMNIKEY 5422(?!.*CL)/i,
    slot: 'contact',
    maxResponseLength: 258,
    settleMs: 0,
    notes: 'Dual interface; the contact slot takes a full-size card, so an ID-000 PSAM needs an adapter.',
  },
  {
    id: 'omnikey-5422-cl',
    description: 'HID OMNIKEY 5422, contactless field',
    namePattern: /OMNIKEY 5422.*CL/i,
    slot: 'contactless',
    maxResponseLength: 258,
    settleMs: 20,
    notes: 'Dual interface reader; the contactless field has "CL" in its PC/SC name.',
  },
  {
    id: 'generic-sam',
    description: 'any reader slot whose name says SAM',
    namePattern: /\bSAM\b/i,
    slot: 'contact',
    maxResponseLength: 258,
    settleMs: 0,
    notes: 'Fallback for PSAM slots of integrated validator boards that expose them through CCID.',
  },
];

export const UNKNOWN_READER_MODEL: ReaderModel = {
  id: 'unknown',
  description: 'reader not in the model table',
  namePattern: /.*/,
  slot: 'contactless',
  maxResponseLength: 258,
  settleMs: 0,
  notes: 'Defaults: short APDUs, no settle delay.',
};

/** Finds the model of a PC/SC reader by its name. */
export function readerModelOf(readerName: string): ReaderModel {
  return READER_MODELS.find((model) => model.namePattern.test(readerName)) ?? UNKNOWN_READER_MODEL;
}
