import { join } from 'node:path';
import { DEFAULT_DRIVER_CARD_TYPE_CODES, DEFAULT_DRIVER_NUMBER_DIGITS, type Logger, type TapOutcome, type TerminalConfig } from '@busfare/terminal';
import type { ApduCard } from '../cards/apdu-card.js';
import { TcpFaultProxy } from '../faults/tcp-fault-proxy.js';
import { TerminalProcess } from '../faults/terminal-process.js';
import { ALL_BENCH_ISSUERS } from '../keys/test-keys.js';
import { SoftwarePsam } from '../psam/software-psam.js';
import { SocketReaderHost } from '../reader/socket-reader-host.js';
import type { TappableBus, TearPlan } from './rider-flow.js';

export interface ChaosBusOptions {
  index: number;
  dataDir: string;
  brokerPort: number;
  /** The terminal's MQTT secret. */
  password: string;
  parameterPublicKeyFile: string;
  logger: Logger;
  cardLatencyMs: number;
  psamLatencyMs: number;
}

/** Milliseconds a rider waits at a door whose terminal is restarting. */
const WAIT_FOR_TERMINAL_MS = 3_000;

/**
 * One bus of the chaos bench: a `busfare-terminal run` process, its socket-attached reader with
 * the PSAM (both in this process, so cards and PSAM survive a kill) and a fault proxy between the
 * terminal and the broker.
 */
export class ChaosBus implements TappableBus<ApduCard> {
  readonly terminalId: string;
  readonly host: SocketReaderHost;
  readonly proxy: TcpFaultProxy;
  readonly process: TerminalProcess;
  /** Set by the fault schedule: kill the terminal right after the card processes DEBIT. */
  killAtNextDebit = false;
  /** Debit-time kills that happened. */
  debitKills = 0;
  private proxyPort = 0;

  constructor(private readonly options: ChaosBusOptions) {
    const number = String(options.index + 1).padStart(3, '0');
    this.terminalId = `C${number}`;
    const logger = options.logger.child({ terminalId: this.terminalId });
    const psam = new SoftwarePsam({ terminalNumber: `0000582000${number.slice(1)}`.slice(-12), issuers: ALL_BENCH_ISSUERS });
    this.host = new SocketReaderHost({
      path: join(options.dataDir, `${this.terminalId}-reader.sock`),
      psam,
      logger,
      cardLatencyMs: options.cardLatencyMs,
      psamLatencyMs: options.psamLatencyMs,
      afterCardCommand: (command) => this.afterCardCommand(command),
    });
    this.proxy = new TcpFaultProxy({ targetPort: options.brokerPort, logger });
    this.process = new TerminalProcess(join(options.dataDir, `${this.terminalId}.json`), this.initialConfig(), logger);
  }

  get outboxPath(): string {
    return join(this.options.dataDir, `${this.terminalId}-transactions.db`);
  }

  async start(): Promise<void> {
    await this.host.listen();
    this.proxyPort = await this.proxy.listen();
    this.process.start({ broker: { ...this.initialConfig().broker, url: `mqtt://127.0.0.1:${this.proxyPort}` } });
  }

  async stop(): Promise<void> {
    await this.process.stop();
    await this.host.close();
    await this.proxy.close();
  }

  /**
   * Presents a card as a rider does. A terminal that is down or dies during the tap shows the
   * rider nothing. Such a tap counts as in doubt when DEBIT reached the card, and as failed otherwise.
   */
  async tap(card: ApduCard, tear?: TearPlan): Promise<TapOutcome> {
    if (!(await this.host.waitConnected(WAIT_FOR_TERMINAL_MS))) return unknownOutcome('failed', 'terminal is not running');
    const result = await this.host.tap(card, tear ? { tear } : {});
    if (result.outcome) return result.outcome;
    return result.debitSent ? unknownOutcome('in-doubt', 'terminal stopped after DEBIT') : unknownOutcome('failed', 'terminal stopped before DEBIT');
  }

  private afterCardCommand(command: Uint8Array): boolean {
    const isDebit = command[0] === 0x80 && command[1] === 0x54;
    if (!isDebit || !this.killAtNextDebit || !this.process.running) return false;
    this.killAtNextDebit = false;
    this.debitKills += 1;
    void this.process.kill9();
    return true;
  }

  private initialConfig(): TerminalConfig {
    const number = String(this.options.index + 1).padStart(3, '0');
    return {
      terminalId: this.terminalId,
      vehicleId: `CV${number}`,
      dataDir: this.options.dataDir,
      broker: { url: `mqtt://127.0.0.1:${this.proxyPort || this.options.brokerPort}`, username: this.terminalId, password: this.options.password },
      parameterPublicKeyFile: this.options.parameterPublicKeyFile,
      reader: { kind: 'socket', path: join(this.options.dataDir, `${this.terminalId}-reader.sock`) },
      service: { route: String(this.options.index % 2 === 0 ? 1 : 2), direction: (this.options.index % 2) as 0 | 1, driverId: `CD${number}` },
      driverCards: { typeCodes: [...DEFAULT_DRIVER_CARD_TYPE_CODES], driverNumberDigits: DEFAULT_DRIVER_NUMBER_DIGITS },
      // Several buses run at once, so each page takes a free port.
      driverScreen: { enabled: true, port: 0 },
      uplink: { ackTimeoutMs: 3_000, statusIntervalMs: 5_000 },
      storage: {},
      clockOffsetMs: 0,
      utcOffsetMinutes: 480,
    };
  }
}

function unknownOutcome(status: 'in-doubt' | 'failed', reason: string): TapOutcome {
  // The rider saw nothing and taps again, as after "请重刷".
  return { status, promptId: 'tap-again', reason, cardApdus: 0, psamApdus: 0, durationMs: 0 };
}
