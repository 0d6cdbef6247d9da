import { parseArgs } from 'node:util';
import { type Language, cliHelp, parseArgsErrorText, uiText } from '@busfare/shared-protocol';
import { createLogger } from '../logger.js';
import type { NfcPcscReader } from '../readers/pcsc/nfc-pcsc-module.js';
import { PcscUnavailableError } from '../readers/pcsc/nfc-pcsc-module.js';
import { PcscService, pcscdSocketPath, probePcscd } from '../readers/pcsc/pcsc-service.js';
import { readerModelOf } from '../readers/pcsc/reader-models.js';
import { UsageError, parseSeconds, pcscUnavailableText, pcscdDownText, takeCommandLanguage } from './cli-options.js';

interface ListedReader {
  name: string;
  model: string;
  slot: string;
  card: boolean;
  atr: string | null;
}

/**
 * Runs `busfare-terminal list-readers`; returns the exit status. `parentLanguage`, the language that
 * busfare-terminal chose, sets the help and text output. A --lang in args overrides it, and
 * without either BUSFARE_LANG applies.
 */
export async function listReadersCommand(args: string[], parentLanguage?: Language): Promise<number> {
  const selection = takeCommandLanguage(args, parentLanguage, (text) => process.stderr.write(`busfare-terminal list-readers: ${text}`));
  if (selection === undefined) return 2;
  const usage = cliHelp('terminal.listReaders', selection.language);
  let options: { wait?: string; json?: boolean; help?: boolean };
  try {
    options = parseArgs({ args: selection.args, options: { wait: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (error) {
    const message = parseArgsErrorText(error, selection.language, 'busfare-terminal list-readers') ?? (error as Error).message;
    process.stderr.write(`busfare-terminal list-readers: ${message}\n\n${usage}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(usage);
    return 0;
  }
  let waitSeconds: number;
  const language = selection.language;
  try {
    waitSeconds = parseSeconds('wait', options.wait, 1, language);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`busfare-terminal list-readers: ${error.message}\n\n${usage}`);
    return 2;
  }

  const socketPath = pcscdSocketPath();
  if (!(await probePcscd(socketPath))) {
    process.stderr.write(`${pcscdDownText(socketPath, language)}\n`);
    return 1;
  }
  const logger = createLogger('list-readers', process.env.BUSFARE_LOG_LEVEL ?? 'warn');
  // One attempt only: a CLI reports pcscd down instead of waiting for it.
  const service = new PcscService({ logger, socketPath, initialRetryMs: 60_000 });
  const readers = new Map<string, ListedReader>();
  service.on('reader', (reader: NfcPcscReader) => {
    const model = readerModelOf(reader.name);
    const entry: ListedReader = { name: reader.name, model: model.id, slot: model.slot, card: false, atr: null };
    readers.set(reader.name, entry);
    reader.autoProcessing = false;
    reader.on('card', (card: { atr?: Buffer }) => {
      entry.card = true;
      entry.atr = card.atr ? card.atr.toString('hex').toUpperCase() : null;
    });
    reader.on('card.off', () => {
      entry.card = false;
      entry.atr = null;
    });
    reader.on('error', () => undefined);
  });
  try {
    await service.start();
    if (!service.isUp) {
      process.stderr.write(`${pcscdDownText(socketPath, language)}\n`);
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, waitSeconds * 1000));
  } catch (error) {
    if (!(error instanceof PcscUnavailableError)) throw error;
    process.stderr.write(`${pcscUnavailableText(error, language)}\n`);
    return 1;
  } finally {
    await service.stop();
  }

  const listed = [...readers.values()].sort((a, b) => a.name.localeCompare(b.name));
  if (options.json) {
    for (const reader of listed) process.stdout.write(`${JSON.stringify(reader)}\n`);
    return 0;
  }
  if (listed.length === 0) process.stdout.write(`${uiText('listReaders.none', language)}\n`);
  for (const reader of listed) {
    const state = reader.card ? `${uiText('listReaders.cardPresent', language)} ATR ${reader.atr ?? '-'}` : uiText('listReaders.empty', language);
    process.stdout.write(`${reader.name}\t${reader.model}\t${reader.slot}\t${state}\n`);
  }
  return 0;
}
