import { sha256Hex, transactionRecordSchema } from '@busfare/shared-protocol';
import type { AwaitingIssuerRow, IssuerVerdictInput } from '../store/settlement-store.js';
import { ClearingError } from './clearing-error.js';

/**
 * The file that forwards out-of-town T-Union records to one partner city's clearing for the
 * issuer's TAC verification, and the answer file the partner returns.
 *
 * Layout: one header line, one detail line per record and one trailer line, fields separated by
 * "|", UTF-8, CRLF line ends. The detail line carries what the issuer needs to recompute the TAC
 * (card number, card counter, transaction type, amount, PSAM terminal number and serial, card
 * date and time, key version and algorithm) plus the terminal id and sequence that identify the
 * record in the answer.
 * NOTE: this follows the outline of JT/T 978.4 (clearing data exchange between T-Union members)
 * as far as the public summaries describe it; the standard's exact field widths and codes are not
 * reproduced, so a real partner link needs a mapping layer checked against the standard text.
 */
export const FORWARDING_FORMAT_VERSION = 'BF-TU-1';

export interface ForwardingFile {
  fileName: string;
  partnerCity: string;
  recordCount: number;
  amountFen: number;
  content: string;
  keys: { terminalId: string; sequence: number }[];
}

/** Builds the forwarding file of one partner city from its records awaiting verification. */
export function buildForwardingFile(senderCity: string, partnerCity: string, day: string, rows: readonly AwaitingIssuerRow[], fileNumber = 1): ForwardingFile {
  const details: string[] = [];
  let amountFen = 0;
  rows.forEach((row, index) => {
    const record = transactionRecordSchema.parse(JSON.parse(row.rawJson));
    const debit = record.debit;
    amountFen += debit.amountFen;
    details.push(
      [
        'D',
        index + 1,
        record.card.asn,
        record.card.issuerId,
        debit.cardCounter,
        debit.transactionType.toString(16).padStart(2, '0').toUpperCase(),
        debit.amountFen,
        debit.balanceBeforeFen,
        debit.psamTerminalNumber,
        debit.terminalSerial,
        debit.cardDateTime,
        debit.tac ?? '',
        debit.keyVersion,
        debit.algorithmId,
        row.terminalId,
        row.sequence,
      ].join('|'),
    );
  });
  const compactDay = day.replace(/-/g, '');
  const header = ['H', FORWARDING_FORMAT_VERSION, senderCity, partnerCity, compactDay, String(fileNumber).padStart(2, '0'), rows.length, amountFen].join('|');
  const body = [header, ...details].join('\r\n');
  const trailer = ['T', rows.length, amountFen, sha256Hex(body)].join('|');
  return {
    fileName: `TU_${senderCity}_${partnerCity}_${compactDay}_${String(fileNumber).padStart(2, '0')}.txt`,
    partnerCity,
    recordCount: rows.length,
    amountFen,
    content: `${body}\r\n${trailer}\r\n`,
    keys: rows.map((row) => ({ terminalId: row.terminalId, sequence: row.sequence })),
  };
}

/**
 * Parses a partner's answer file: a header `A|BF-TU-1|partnerCity|senderCity|YYYYMMDD|fileName`,
 * one line `R|terminalId|sequence|code|reason` per record (code `00` confirmed, anything else
 * refused with that code), and a trailer `T|count`. Throws a ClearingError listing every bad line,
 * including a second verdict line for the same record.
 */
export function parseVerdictFile(content: string): { partnerCity: string; forwardedFile: string; verdicts: IssuerVerdictInput[] } {
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/).filter((line) => line.length > 0);
  const problems: string[] = [];
  const header = lines[0]?.split('|') ?? [];
  if (header[0] !== 'A' || header[1] !== FORWARDING_FORMAT_VERSION || header.length !== 6) {
    throw new ClearingError('invalid', `invalid answer file: line 1 must be "A|${FORWARDING_FORMAT_VERSION}|partnerCity|senderCity|YYYYMMDD|fileName"`);
  }
  const verdicts: IssuerVerdictInput[] = [];
  /** Line of each record's verdict, so that a second verdict for one record fails the whole file. */
  const answeredOn = new Map<string, number>();
  let trailerCount: number | undefined;
  lines.slice(1).forEach((line, index) => {
    const fields = line.split('|');
    const lineNumber = index + 2;
    if (fields[0] === 'T') {
      trailerCount = Number(fields[1]);
      return;
    }
    const sequence = Number(fields[2]);
    if (fields[0] !== 'R' || fields.length < 4 || !/^[A-Za-z0-9_-]{1,32}$/.test(fields[1] ?? '') || !Number.isSafeInteger(sequence) || sequence < 1 || !/^[0-9A-Z]{2}$/.test(fields[3] ?? '')) {
      problems.push(`line ${lineNumber}: expected "R|terminalId|sequence|code|reason"`);
      return;
    }
    const key = `${fields[1]}#${sequence}`;
    const firstLine = answeredOn.get(key);
    if (firstLine !== undefined) {
      problems.push(`line ${lineNumber}: record ${key} is answered twice (first on line ${firstLine})`);
      return;
    }
    answeredOn.set(key, lineNumber);
    const code = fields[3] as string;
    verdicts.push({ terminalId: fields[1] as string, sequence, verdict: code === '00' ? 'confirmed' : 'refused', reason: code === '00' ? undefined : `${code} ${fields.slice(4).join('|')}`.trim() });
  });
  if (trailerCount === undefined) problems.push('the trailer line "T|count" is missing');
  else if (trailerCount !== verdicts.length + problems.length) problems.push(`the trailer counts ${trailerCount} records but the file has ${verdicts.length + problems.length}`);
  if (problems.length > 0) throw new ClearingError('invalid', `invalid answer file: ${problems.join('; ')}`);
  return { partnerCity: header[2] as string, forwardedFile: header[5] as string, verdicts };
}

/** Builds the answer a partner would return confirming every record of a forwarding file (bench and tests). */
export function confirmAllAnswer(file: ForwardingFile, senderCity: string, day: string): string {
  const lines = [['A', FORWARDING_FORMAT_VERSION, file.partnerCity, senderCity, day.replace(/-/g, ''), file.fileName].join('|')];
  for (const key of file.keys) lines.push(['R', key.terminalId, key.sequence, '00', ''].join('|'));
  lines.push(`T|${file.keys.length}`);
  return `${lines.join('\r\n')}\r\n`;
}
