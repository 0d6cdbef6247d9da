import { parseArgs } from 'node:util';
import { type Language, cliHelp, cliText, labelled, parseArgsErrorText, uiText } from '@busfare/shared-protocol';
import { CardInspectionError, inspectCard } from '../cards/card-inspection.js';
import { formatCardInspection } from '../cards/card-inspection-format.js';
import { createLogger } from '../logger.js';
import { CardIoError, type CardSession, ReaderIoError } from '../ports/card-reader.js';
import { PcscUnavailableError } from '../readers/pcsc/nfc-pcsc-module.js';
import { PcscCardReader } from '../readers/pcsc/pcsc-card-reader.js';
import { pcscdSocketPath, probePcscd } from '../readers/pcsc/pcsc-service.js';
import { UsageError, parseSeconds, pcscUnavailableText, pcscdDownText, takeCommandLanguage } from './cli-options.js';

/**
 * Runs `busfare-terminal read-card`; returns the exit status. `parentLanguage`, the language that
 * busfare-terminal chose, sets the help and text output. A --lang in args overrides it, and
 * without either BUSFARE_LANG applies.
 */
export async function readCardCommand(args: string[], parentLanguage?: Language): Promise<number> {
  const selection = takeCommandLanguage(args, parentLanguage, (text) => process.stderr.write(`busfare-terminal read-card: ${text}`));
  if (selection === undefined) return 2;
  const usage = cliHelp('terminal.readCard', selection.language);
  let options: { reader?: string; timeout?: string; json?: boolean; help?: boolean };
  try {
    options = parseArgs({
      args: selection.args,
      options: { reader: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values;
  } catch (error) {
    const message = parseArgsErrorText(error, selection.language, 'busfare-terminal read-card') ?? (error as Error).message;
    process.stderr.write(`busfare-terminal read-card: ${message}\n\n${usage}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(usage);
    return 0;
  }
  let timeoutSeconds: number;
  const language = selection.language;
  try {
    timeoutSeconds = parseSeconds('timeout', options.timeout, 30, language);
    if (options.reader !== undefined && options.reader.trim() === '') throw new UsageError(cliText('cli.readCard.invalidReader', language));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`busfare-terminal read-card: ${error.message}\n\n${usage}`);
    return 2;
  }

  const socketPath = pcscdSocketPath();
  if (!(await probePcscd(socketPath))) {
    process.stderr.write(`${pcscdDownText(socketPath, language)}\n`);
    return 1;
  }
  const logger = createLogger('read-card', process.env.BUSFARE_LOG_LEVEL ?? 'warn');
  const reader = new PcscCardReader({ logger, readerName: options.reader, serviceOptions: { socketPath, initialRetryMs: 60_000 } });
  try {
    const session = await waitForCard(reader, timeoutSeconds * 1000, language);
    if (!session) {
      process.stderr.write(`${cliText('cli.readCard.noCard', language, { reader: reader.name, seconds: timeoutSeconds })}\n`);
      return 1;
    }
    const inspection = await inspectCard(session);
    if (options.json) process.stdout.write(`${JSON.stringify({ reader: reader.name, atr: Buffer.from(session.atr).toString('hex').toUpperCase(), ...inspection })}\n`);
    else process.stdout.write(formatCardInspection(inspection, language));
    return 0;
  } catch (error) {
    if (error instanceof CardInspectionError) {
      process.stderr.write(`${labelled(language, uiText('readCard.unsupported', language), error.textIn(language))}\n`);
      return 1;
    }
    if (error instanceof PcscUnavailableError) {
      process.stderr.write(`${pcscUnavailableText(error, language)}\n`);
      return 1;
    }
    if (error instanceof CardIoError || error instanceof ReaderIoError) {
      process.stderr.write(`${cliText('cli.readCard.failed', language, { message: error.message })}\n`);
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
