import { EventEmitter } from 'node:events';
import type { DeviceHealth } from '@busfare/shared-protocol';
import type { Logger } from 'pino';
import type { CardReader, CardReaderEvents } from '../../ports/card-reader.js';
import { classifyAtr, protocolOf } from './atr-classification.js';
import type { NfcPcscReader } from './nfc-pcsc-module.js';
import { PcscCardSession } from './pcsc-card-session.js';
import { PcscService, type PcscServiceOptions } from './pcsc-service.js';
import { matchesReaderName, type ReaderNameFilter, redirectErrorEvents } from './reader-selection.js';
import { type ReaderModel, readerModelOf } from './reader-models.js';
import type { ServiceAlertHook } from './service-alert.js';

/** GET DATA for the UID (PC/SC part 3 pseudo-APDU); readers answer it themselves. */
const GET_UID = Buffer.from('FFCA000000', 'hex');

export interface PcscCardReaderOptions {
  logger: Logger;
  /** Reader to use: a substring or pattern of the PC/SC name. Default: the first contactless reader. */
  readerName?: ReaderNameFilter;
  /** A service shared with the PSAM slot; default a service of this reader's own. */
  service?: PcscService;
  /** Options for the reader's own service (socket path, retry delays, test doubles). */
  serviceOptions?: Omit<PcscServiceOptions, 'logger'>;
  /** Receives pcscd outages and recoveries, so the driver's screen can show "reader service down". */
  serviceAlert?: ServiceAlertHook;
}

/**
 * The contactless reader through pcscd and nfc-pcsc, with nfc-pcsc's auto-processing off. It
 * classifies each card by its ATR, opens a PcscCardSession per presentation, and recovers from an
 * unplugged reader (nfc-pcsc reports it again when it returns) and from a pcscd restart (a new PC/SC
 * context) without a restart of the terminal.
 */
export class PcscCardReader extends EventEmitter<CardReaderEvents> implements CardReader {
  private readonly service: PcscService;
  private readonly ownsService: boolean;
  private reader: NfcPcscReader | undefined;
  private model: ReaderModel | undefined;
  private session: PcscCardSession | undefined;
  private lastSessionId = 0;
  private currentHealth: DeviceHealth = 'unknown';
  private started = false;
  private readonly onReader = (reader: NfcPcscReader) => this.adopt(reader);
  private readonly onServiceDown = (error: Error) => this.serviceDown(error);
  private readonly onServiceUp = () => {
    // pcscd answers but the wanted reader is not listed yet: 'degraded' until it attaches.
    if (!this.reader) this.setHealth('degraded');
    this.options.serviceAlert?.serviceUp();
  };

  constructor(private readonly options: PcscCardReaderOptions) {
    super();
    this.ownsService = options.service === undefined;
    this.service = options.service ?? new PcscService({ logger: options.logger, ...options.serviceOptions });
  }

  /** PC/SC name of the reader in use, or the filter while none is attached. */
  get name(): string {
    return this.reader?.name ?? (this.options.readerName === undefined ? 'PC/SC contactless reader' : String(this.options.readerName));
  }

  get health(): DeviceHealth {
    return this.currentHealth;
  }

  /** Model of the attached reader, from the quirks table. */
  get readerModel(): ReaderModel | undefined {
    return this.model;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.service.on('reader', this.onReader);
    this.service.on('down', this.onServiceDown);
    this.service.on('up', this.onServiceUp);
    if (this.ownsService) await this.service.start();
    if (!this.reader) this.setHealth(this.service.isUp ? 'degraded' : 'down');
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.service.off('reader', this.onReader);
    this.service.off('down', this.onServiceDown);
    this.service.off('up', this.onServiceUp);
    this.detach();
    if (this.ownsService) await this.service.stop();
    this.setHealth('down');
  }

  private adopt(reader: NfcPcscReader): void {
    if (this.reader) return;
    const model = readerModelOf(reader.name);
    const wanted = this.options.readerName === undefined ? model.slot === 'contactless' : matchesReaderName(reader.name, this.options.readerName);
    if (!wanted) {
      this.options.logger.debug({ reader: reader.name, model: model.id }, 'PC/SC reader ignored by the reader filter');
      return;
    }
    this.reader = reader;
    this.model = model;
    reader.autoProcessing = false;
    redirectErrorEvents(reader);
    reader.on('card', (card: { atr?: Buffer }) => {
      if (this.reader === reader) void this.cardArrived(reader, model, card.atr);
    });
    reader.on('card.off', () => {
      if (this.reader === reader) this.cardLeft();
    });
    reader.on('error', (error: Error) => this.readerError(reader, error));
    reader.on('end', () => {
      if (this.reader !== reader) return;
      this.options.logger.warn({ reader: reader.name }, 'PC/SC reader removed; waiting for it to come back');
      this.detach();
      this.setHealth('down');
    });
    this.options.logger.info({ reader: reader.name, model: model.id }, 'PC/SC reader attached');
    this.setHealth('ok');
  }

  private detach(): void {
    this.cardLeft();
    this.reader = undefined;
    this.model = undefined;
  }

  private async cardArrived(reader: NfcPcscReader, model: ReaderModel, atrBuffer: Buffer | undefined): Promise<void> {
    this.cardLeft();
    const atr = Uint8Array.from(atrBuffer ?? []);
    const classification = classifyAtr(atr);
    const protocol = protocolOf(classification);
    if (!protocol) {
      this.options.logger.info({ reader: reader.name, reason: classification.kind === 'unsupported' ? classification.reason : undefined }, 'card ignored');
      return;
    }
    this.lastSessionId += 1;
    const session = new PcscCardSession(this.lastSessionId, atr, protocol, reader, model, (error) => this.sessionReaderError(error));
    this.session = session;
    if (model.settleMs > 0) await new Promise((resolve) => setTimeout(resolve, model.settleMs));
    if (protocol === 'mifare-classic') session.uid = await this.readUid(session);
    if (this.session !== session || session.isRemoved) return;
    this.emit('card', session);
  }

  private async readUid(session: PcscCardSession): Promise<Uint8Array | undefined> {
    try {
      const response = await session.transmit(GET_UID);
      const ok = response.length > 2 && response[response.length - 2] === 0x90 && response[response.length - 1] === 0x00;
      return ok ? response.slice(0, -2) : undefined;
    } catch (error) {
      this.options.logger.debug({ err: error }, 'reading the card UID failed');
      return undefined;
    }
  }

  private cardLeft(): void {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    session.markRemoved();
    this.emit('removed', session);
  }

  private readerError(reader: NfcPcscReader, error: Error): void {
    const name = error.name;
    // ConnectError and DisconnectError come from a card that left while nfc-pcsc connected to it.
    if (name === 'ConnectError' || name === 'DisconnectError') {
      this.options.logger.debug({ reader: reader.name, err: error }, 'card connection failed');
      return;
    }
    this.options.logger.warn({ reader: reader.name, err: error }, 'PC/SC reader error');
  }

  /** Opens a new PC/SC context after a transmit failed in the reader or pcscd, because the old handles may be stale. */
  private sessionReaderError(error: Error): void {
    this.options.logger.error({ reader: this.reader?.name, err: error }, 'PC/SC reader failed during a transmit; reconnecting');
    this.setHealth('fault');
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.detach();
    this.service.reconnect(error);
  }

  private serviceDown(error: Error): void {
    this.detach();
    this.setHealth('down');
    this.options.serviceAlert?.serviceDown(error.message);
  }

  private setHealth(health: DeviceHealth): void {
    if (health === this.currentHealth) return;
    this.currentHealth = health;
    this.emit('health', health);
  }
}
