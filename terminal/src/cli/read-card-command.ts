import { parseArgs } from 'node:util';
import { type Language, uiText } from '@busfare/shared-protocol';
import { CardInspectionError, inspectCard } from '../cards/card-inspection.js';
import { formatCardInspection } from '../cards/card-inspection-format.js';
import { createLogger } from '../logger.js';
import { CardIoError, type CardSession, ReaderIoError } from '../ports/card-reader.js';
import { PcscUnavailableError } from '../readers/pcsc/nfc-pcsc-module.js';
import { PcscCardReader } from '../readers/pcsc/pcsc-card-reader.js';
import { pcscdSocketPath, probePcscd } from '../readers/pcsc/pcsc-service.js';
import { UsageError, parseLanguage, parseSeconds } from './cli-options.js';

export const READ_CARD_USAGE = `Usage: busfare-terminal read-card [options]

Waits for a T-Union card or phone on a PC/SC reader and prints what it holds without changing it:
card type code, number, issuer, validity, balance, the purchase log (EF18) and the transit records
(EF1E).

Options:
  --reader NAME     use the reader whose PC/SC name contains NAME (default: the first contactless reader)
  --timeout SECONDS how long to wait for a card (default 30)
  --lang zh|en      language of the text output (default zh)
  --json            print one JSON object on stdout instead of text
  -h, --help        show this help

Exit status: 0 when the card was read, 1 when no card came, the card could not be read or pcscd is
unavailable, 2 on invalid arguments.
`;

export async function readCardCommand(args: string[]): Promise<number> {
  let options: { reader?: string; timeout?: string; lang?: string; json?: boolean; help?: boolean };
  try {
    options = parseArgs({
      args,
      options: { reader: { type: 'string' }, timeout: { type: 'string' }, lang: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${READ_CARD_USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(READ_CARD_USAGE);
    return 0;
  }
  let timeoutSeconds: number;
  let language: Language;
  try {
    timeoutSeconds = parseSeconds('timeout', options.timeout, 30);
    language = parseLanguage(options.lang);
    if (options.reader !== undefined && options.reader.trim() === '') throw new UsageError('invalid --reader "": expected part of a reader name');
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${READ_CARD_USAGE}`);
    return 2;
  }

  const socketPath = pcscdSocketPath();
  if (!(await probePcscd(socketPath))) {
    process.stderr.write(`${uiText('listReaders.serviceDown', language)}: ${socketPath}\n`);
    return 1;
  }
  const logger = createLogger('read-card', process.env.BUSFARE_LOG_LEVEL ?? 'warn');
  const reader = new PcscCardReader({ logger, readerName: options.reader, serviceOptions: { socketPath, initialRetryMs: 60_000 } });
  try {
    const session = await waitForCard(reader, timeoutSeconds * 1000, language);
    if (!session) {
      process.stderr.write(`no card on reader "${reader.name}" within ${timeoutSeconds} s\n`);
      return 1;
    }
    const inspection = await inspectCard(session);
    if (options.json) process.stdout.write(`${JSON.stringify({ reader: reader.name, atr: Buffer.from(session.atr).toString('hex').toUpperCase(), ...inspection })}\n`);
    else process.stdout.write(formatCardInspection(inspection, language));
    return 0;
  } catch (error) {
    if (error instanceof CardInspectionError) {
      process.stderr.write(`${uiText('readCard.unsupported', language)}: ${error.message}\n`);
      return 1;
    }
    if (error instanceof CardIoError || error instanceof ReaderIoError || error instanceof PcscUnavailableError) {
      process.stderr.write(`reading the card failed: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await reader.stop();
  }
}

async function waitForCard(reader: PcscCardReader, timeoutMs: number, language: Language): Promise<CardSession | undefined> {
  const arrived = new Promise<CardSession | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    reader.once('card', (session) => {
      clearTimeout(timer);
      resolve(session);
    });
  });
  await reader.start();
  process.stderr.write(`${uiText('readCard.waiting', language)}\n`);
  return arrived;
}
