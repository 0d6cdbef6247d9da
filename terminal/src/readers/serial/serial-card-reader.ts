import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import type { Logger } from '../../logger.js';
import { CardIoError, type CardProtocol, type CardReader, type CardReaderEvents, type CardSession, ReaderIoError } from '../../ports/card-reader.js';
import { identifyTarget } from './card-identity.js';
import { type MifareContext, runMifarePseudoApdu } from './mifare-pseudo-apdu.js';
import { BRTY_106_TYPE_A, MIFARE_CMD, PN532_COMMAND, STATUS_ERROR_MASK, STATUS_MORE_INFORMATION, classifyStatus, parseTypeATargets } from './pn532-commands.js';
import { HSU_WAKE_UP } from './pn532-frame.js';
import { Pn532Link } from './pn532-link.js';

/** PN532 Diagnose (UM0701-02 §7.2.1). Test 06 checks that an ISO/IEC 14443-4 card still responds. */
const DIAGNOSE = 0x00;
const DIAGNOSE_CARD_PRESENCE = 0x06;
/** RFConfiguration item 05: MxRtyATR, MxRtyPSL, MxRtyPassiveActivation. */
const RF_CONFIGURATION = 0x32;
const RF_ITEM_MAX_RETRIES = 0x05;

/** The part of `SerialPort` the reader uses, so tests can pass another byte pipe. */
export interface SerialCardPortLike {
  open(callback: (error: Error | null) => void): void;
  close(callback?: (error: Error | null) => void): void;
  write(data: Uint8Array): boolean;
  readonly isOpen: boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'close' | 'error', listener: (error?: Error | null) => void): this;
  removeAllListeners(): this;
}

export interface SerialCardReaderOptions {
  /** Device path of the module, e.g. `/dev/ttyS1` or a `/dev/serial/by-id/...` name. */
  path: string;
  /** Default 115200, the PN532's HSU rate after power-on; the frame is always 8N1. */
  baudRate?: number;
  name?: string;
  logger?: Logger;
  /** Milliseconds between polls for a card while the field is empty. Default 100. */
  pollIntervalMs?: number;
  /** A session idle this long is checked for removal. Default 250. */
  presenceCheckIdleMs?: number;
  /** Default 100. */
  ackTimeoutMs?: number;
  /** Maximum milliseconds from the ACK to the module's response, card exchanges included. Default 1000. */
  responseTimeoutMs?: number;
  /** Milliseconds between attempts to reopen or wake a module that was lost. Default 500. */
  reconnectMs?: number;
  createPort?: (path: string, baudRate: number) => SerialCardPortLike;
}

const defaultCreatePort = (path: string, baudRate: number): SerialCardPortLike =>
  new SerialPort({ path, baudRate, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false });

/** One card presentation on the serial reader module. */
export class SerialCardSession implements CardSession {
  removed = false;
  /** Last MIFARE authentication, replayed after a presence check re-selected the card. */
  lastAuthentication: Uint8Array | undefined;
  needsReauthentication = false;
  readonly mifare: MifareContext;

  constructor(
    readonly id: number,
    readonly atr: Uint8Array,
    readonly protocol: CardProtocol,
    readonly uid: Uint8Array,
    readonly tg: number,
    private readonly reader: SerialCardReader,
  ) {
    this.mifare = { uid, keySlots: [undefined, undefined] };
  }

  transmit(command: Uint8Array): Promise<Uint8Array> {
    return this.reader.transmitFor(this, command.slice());
  }
}

/**
 * The CardReader port over a PN532 module on a serial line (HSU). While the field is empty, it
 * polls with InListPassiveTarget for one type A card. APDUs to an ISO-DEP card go through
 * InDataExchange. For a MIFARE Classic card, the reader carries out the PC/SC pseudo-APDUs of ACS
 * readers as MIFARE commands. A session that has been idle for `presenceCheckIdleMs` is checked for
 * removal. A silent module or a closed port ends the session with ReaderIoError, and the reader
 * keeps waking the module until it responds again.
 */
export class SerialCardReader extends EventEmitter<CardReaderEvents> implements CardReader {
  readonly name: string;
  private readonly options: Required<Omit<SerialCardReaderOptions, 'logger' | 'name'>> & { logger: Logger | undefined };
  private port: SerialCardPortLike | undefined;
  private link: Pn532Link | undefined;
  private running = false;
  private ready = false;
  private timer: NodeJS.Timeout | undefined;
  private current: SerialCardSession | undefined;
  private lastSessionId = 0;
  private lastActivity = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** UID of a card of a kind the terminal cannot use, so that it is logged once per presentation. */
  private ignoredUid: string | undefined;
  /** Failed attempts to open and configure the module since it was last ready, so that an outage is logged at warn once. */
  private failedConnects = 0;

  constructor(options: SerialCardReaderOptions) {
    super();
    this.name = options.name ?? `serial reader ${options.path}`;
    this.options = {
      path: options.path,
      baudRate: options.baudRate ?? 115_200,
      pollIntervalMs: options.pollIntervalMs ?? 100,
      presenceCheckIdleMs: options.presenceCheckIdleMs ?? 250,
      ackTimeoutMs: options.ackTimeoutMs ?? 100,
      responseTimeoutMs: options.responseTimeoutMs ?? 1_000,
      reconnectMs: options.reconnectMs ?? 500,
      createPort: options.createPort ?? defaultCreatePort,
      logger: options.logger,
    };
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Opens the port and configures the module; when that fails it reports 'down' and keeps trying. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.removeCurrent();
    this.closePort('reader stopped');
    if (this.ready) this.emit('health', 'down');
    this.ready = false;
  }

  /** @internal Runs one APDU of a session. */
  transmitFor(session: SerialCardSession, command: Uint8Array): Promise<Uint8Array> {
    return this.serialize(async () => {
      const context = `${this.name} session ${session.id}`;
      if (session.removed || session !== this.current) throw new CardIoError(`${context}: card left the field`, 'removed');
      const link = this.link;
      if (!link || !this.ready) throw new ReaderIoError(`${context}: the module is not connected`);
      try {
        if (session.protocol === 'iso14443-4') return await this.exchangeApdu(link, session, command, context);
        return await runMifarePseudoApdu(command, session.mifare, (mifareCommand) => this.exchangeMifare(link, session, mifareCommand, context));
      } catch (error) {
        if (error instanceof ReaderIoError) this.moduleLost(error);
        // A failed card exchange is followed at once by a presence check.
        else this.lastActivity = 0;
        throw error;
      } finally {
        if (this.lastActivity !== 0) this.lastActivity = Date.now();
      }
    });
  }

  private async exchangeApdu(link: Pn532Link, session: SerialCardSession, command: Uint8Array, context: string): Promise<Uint8Array> {
    this.lastActivity = Date.now();
    const answer = await link.command(PN532_COMMAND.InDataExchange, Uint8Array.from([session.tg, ...command]));
    const status = answer[0] ?? 0xff;
    if ((status & STATUS_ERROR_MASK) !== 0) throw statusError(status, context);
    if ((status & STATUS_MORE_INFORMATION) !== 0) throw new CardIoError(`${context}: the response is longer than one PN532 frame, which this reader does not chain`, 'transport');
    const response = answer.slice(1);
    if (response.length < 2) throw new CardIoError(`${context}: ${response.length}-byte response, the card left the field or did not answer`, 'transport');
    return response;
  }

  private async exchangeMifare(link: Pn532Link, session: SerialCardSession, command: Uint8Array, context: string): Promise<Uint8Array | 'refused'> {
    this.lastActivity = Date.now();
    const isAuthentication = command[0] === MIFARE_CMD.authA || command[0] === MIFARE_CMD.authB;
    if (session.needsReauthentication && !isAuthentication && session.lastAuthentication) {
      session.needsReauthentication = false;
      const replay = await this.exchangeMifare(link, session, session.lastAuthentication, context);
      if (replay === 'refused') return 'refused';
    }
    const answer = await link.command(PN532_COMMAND.InDataExchange, Uint8Array.from([session.tg, ...command]));
    const status = answer[0] ?? 0xff;
    if ((status & STATUS_ERROR_MASK) !== 0) {
      const kind = classifyStatus(status);
      if (kind.kind === 'refused') {
        if (isAuthentication) session.lastAuthentication = undefined;
        return 'refused';
      }
      throw statusError(status, context);
    }
    if (isAuthentication) {
      session.lastAuthentication = command.slice();
      session.needsReauthentication = false;
    }
    return answer.slice(1);
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async connect(): Promise<void> {
    if (!this.running) return;
    try {
      await this.openPort();
      const link = this.link!;
      link.writeRaw(HSU_WAKE_UP);
      // Normal mode, virtual card timeout 1 s, IRQ pin used: the usual set-up that also leaves power-down.
      await link.command(PN532_COMMAND.SAMConfiguration, Uint8Array.of(0x01, 0x14, 0x01));
      // One passive activation retry, so that InListPassiveTarget returns "no card" instead of waiting for one.
      await link.command(RF_CONFIGURATION, Uint8Array.of(RF_ITEM_MAX_RETRIES, 0xff, 0x01, 0x01));
      this.ready = true;
      this.options.logger?.info({ path: this.options.path, baudRate: this.options.baudRate, failedAttempts: this.failedConnects }, 'serial reader module ready');
      this.failedConnects = 0;
      this.emit('health', 'ok');
      this.schedule(0);
    } catch (error) {
      // Logged at warn once per outage, then at debug on each retry, every reconnectMs.
      const details = { err: error, path: this.options.path, failedAttempts: this.failedConnects + 1 };
      if (this.failedConnects === 0) this.options.logger?.warn(details, 'serial reader module not answering, retrying');
      else this.options.logger?.debug(details, 'serial reader module still not answering');
      this.failedConnects += 1;
      this.closePort('module not answering');
      this.emit('health', 'down');
      this.schedule(this.options.reconnectMs, true);
    }
  }

  private openPort(): Promise<void> {
    const port = this.options.createPort(this.options.path, this.options.baudRate);
    this.port = port;
    const link = new Pn532Link(
      { write: (bytes) => void port.write(bytes) },
      {
        ackTimeoutMs: this.options.ackTimeoutMs,
        responseTimeoutMs: this.options.responseTimeoutMs,
        onInvalidFrame: (reason) => this.options.logger?.debug({ reason }, 'dropped a damaged PN532 frame'),
      },
    );
    this.link = link;
    port.on('data', (chunk) => link.receive(chunk));
    port.on('error', (error) => this.options.logger?.debug({ err: error }, 'serial reader port error'));
    port.on('close', () => {
      if (this.port !== port) return;
      this.moduleLost(new ReaderIoError(`${this.name}: the serial port closed`));
    });
    return new Promise((resolve, reject) =>
      port.open((error) => (error ? reject(new ReaderIoError(`${this.name}: cannot open ${this.options.path}: ${error.message}`, { cause: error })) : resolve())),
    );
  }

  private closePort(reason: string): void {
    const port = this.port;
    this.port = undefined;
    this.link?.close(reason);
    this.link = undefined;
    if (!port) return;
    port.removeAllListeners();
    port.on('error', () => undefined);
    if (port.isOpen) port.close();
  }

  /** Ends the session, reports 'down' and starts waking the module again after the module or its port failed. */
  private moduleLost(error: Error): void {
    if (!this.ready) return;
    this.ready = false;
    this.options.logger?.warn({ err: error, path: this.options.path }, 'serial reader module lost');
    this.removeCurrent();
    this.closePort(error.message);
    this.emit('health', 'down');
    // EventEmitter throws an 'error' event without listeners. The health event already reports the loss.
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.schedule(this.options.reconnectMs, true);
  }

  private schedule(delayMs: number, reconnect = false): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (reconnect) void this.connect();
      else
        void this.serialize(() => this.poll()).finally(() => {
          if (this.ready) this.schedule(this.options.pollIntervalMs);
        });
    }, delayMs);
  }

  private async poll(): Promise<void> {
    const link = this.link;
    if (!this.running || !this.ready || !link) return;
    try {
      const session = this.current;
      if (!session) {
        await this.lookForCard(link);
      } else if (Date.now() - this.lastActivity >= this.options.presenceCheckIdleMs) {
        if (!(await this.stillPresent(link, session))) this.removeCurrent();
      }
    } catch (error) {
      if (error instanceof ReaderIoError) this.moduleLost(error);
      else this.options.logger?.warn({ err: error }, 'serial reader poll failed');
    }
  }

  private async lookForCard(link: Pn532Link): Promise<void> {
    const targets = parseTypeATargets(await link.command(PN532_COMMAND.InListPassiveTarget, Uint8Array.of(0x01, BRTY_106_TYPE_A)));
    const target = targets[0];
    if (!target) {
      this.ignoredUid = undefined;
      return;
    }
    const identity = identifyTarget(target);
    if (identity.protocol === undefined) {
      const uid = Buffer.from(target.uid).toString('hex');
      if (this.ignoredUid !== uid) this.options.logger?.info({ reason: identity.reason }, 'ignored a card the terminal cannot use');
      this.ignoredUid = uid;
      await link.command(PN532_COMMAND.InRelease, Uint8Array.of(target.tg));
      return;
    }
    this.lastSessionId += 1;
    const session = new SerialCardSession(this.lastSessionId, identity.atr, identity.protocol, target.uid, target.tg, this);
    this.current = session;
    this.lastActivity = Date.now();
    this.emit('card', session);
  }

  /**
   * ISO-DEP cards are asked with Diagnose 06, which leaves the selected application alone. A
   * MIFARE Classic card is selected again and compared by UID; that drops its authentication,
   * which the next MIFARE command replays.
   */
  private async stillPresent(link: Pn532Link, session: SerialCardSession): Promise<boolean> {
    if (session.protocol === 'iso14443-4') {
      const result = await link.command(DIAGNOSE, Uint8Array.of(DIAGNOSE_CARD_PRESENCE));
      return (result[0] ?? 0xff) === 0x00;
    }
    const targets = parseTypeATargets(await link.command(PN532_COMMAND.InListPassiveTarget, Uint8Array.of(0x01, BRTY_106_TYPE_A)));
    const same = targets.find((target) => Buffer.from(target.uid).equals(Buffer.from(session.uid)));
    if (!same) return false;
    session.needsReauthentication = true;
    return true;
  }

  private removeCurrent(): void {
    const session = this.current;
    if (!session) return;
    this.current = undefined;
    session.removed = true;
    this.emit('removed', session);
  }
}

function statusError(status: number, context: string): CardIoError | ReaderIoError {
  const kind = classifyStatus(status);
  const code = `status ${(status & STATUS_ERROR_MASK).toString(16).padStart(2, '0')}`;
  if (kind.kind === 'card') return new CardIoError(`${context}: PN532 ${code}, the card exchange failed`, kind.reason);
  if (kind.kind === 'refused') return new CardIoError(`${context}: PN532 ${code}, the card rejected the exchange`, 'transport');
  return new ReaderIoError(`${context}: PN532 ${code}`);
}
