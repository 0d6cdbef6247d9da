import type { RoutesBody } from '@busfare/shared-protocol';
import type { Logger } from '../logger.js';
import type { ParameterStore } from '../params/parameter-store.js';
import type { CardReader } from '../ports/card-reader.js';
import type { Clock } from '../ports/clock.js';
import type { PositionSource } from '../ports/position-source.js';
import type { TerminalRuntime } from '../runtime/terminal-runtime.js';
import { DriverCardSignOn } from '../shift/driver-card-sign-on.js';
import { DriverShift, type ServiceChoice } from '../shift/driver-shift.js';
import { serviceChoicesFromRoutes } from '../shift/service-choices.js';
import { ShiftStore } from '../shift/shift-store.js';
import type { TransactionStore } from '../store/transaction-store.js';
import type { TerminalUplink } from '../uplink/mqtt-uplink.js';
import { DriverScreenServer } from './driver-screen-server.js';
import { DriverScreenState } from './driver-screen-state.js';

export interface DriverScreenServiceOptions {
  terminalId: string;
  vehicleId: string;
  /** SQLite file of the open shift and the shift records waiting to be sent. */
  shiftDbPath: string;
  runtime: TerminalRuntime;
  reader?: CardReader;
  positions?: PositionSource;
  transactions: TransactionStore;
  parameters: ParameterStore;
  /** Sends shift records and reports the link; without it records wait in the shift file. */
  uplink?: TerminalUplink;
  /** The vehicle's scheduled service, offered when the routes parameters hold none. */
  defaultService?: ServiceChoice;
  clock: Clock;
  logger: Logger;
  /** Port of the page (0 picks a free one); null serves no page, for headless terminals. */
  port: number | null;
  /** Seconds in which a second tap of the signed-on driver's card signs off (default 15). */
  signOffTapWindowSeconds?: number;
  /** Rider cards while no driver is signed on: 'accept' (default) or 'reject' with "请签到". */
  riderTapsWithoutShift?: 'accept' | 'reject';
}

/**
 * The driver's side of one terminal: the shift with its file, the screen state following the
 * runtime, and the page server. The runtime's trip service follows the signed-on shift, and from
 * start() to stop() the runtime hands driver card taps to this shift.
 */
export class DriverScreenService {
  readonly shiftStore: ShiftStore;
  readonly shift: DriverShift;
  readonly state: DriverScreenState;
  readonly server?: DriverScreenServer;
  readonly cardSignOn: DriverCardSignOn;

  constructor(private readonly options: DriverScreenServiceOptions) {
    const { parameters, clock, uplink, runtime } = options;
    const routes = () => parameters.active('routes', clock.now())?.body as RoutesBody | undefined;
    this.shiftStore = ShiftStore.open(options.shiftDbPath, { logger: options.logger });
    this.shift = new DriverShift({
      terminalId: options.terminalId,
      vehicleId: options.vehicleId,
      store: this.shiftStore,
      ...(uplink ? { sender: { send: (record) => uplink.publishShift(record) } } : {}),
      clock,
      logger: options.logger,
      lastSequence: () => options.transactions.lastSequence(),
      serviceChoices: () => {
        const active = routes();
        if (active && active.routes.length > 0) return serviceChoicesFromRoutes(active);
        return options.defaultService ? [options.defaultService] : [];
      },
      onService: (service) => runtime.setService(service),
    });
    this.state = new DriverScreenState({
      terminalId: options.terminalId,
      vehicleId: options.vehicleId,
      shift: this.shift,
      clock,
      link: () => ({ connected: uplink?.stats().connected ?? false, backlog: options.transactions.backlog() }),
      parameters: () => parameters.versions(clock.now()),
      stopProgress: () => runtime.stopProgress(),
      hasFareTable: () => parameters.activeFareTable(clock.now()) !== undefined,
      utcOffsetMinutes: runtime.utcOffsetMinutes,
    });
    this.cardSignOn = new DriverCardSignOn({
      shift: this.shift,
      clock,
      logger: options.logger,
      ...(options.signOffTapWindowSeconds === undefined ? {} : { signOffTapWindowSeconds: options.signOffTapWindowSeconds }),
      ...(options.riderTapsWithoutShift === undefined ? {} : { riderTapsWithoutShift: options.riderTapsWithoutShift }),
    });
    this.state.attach(runtime, { reader: options.reader, positions: options.positions });
    if (options.port !== null) this.server = new DriverScreenServer({ state: this.state, shift: this.shift, logger: options.logger, port: options.port });
  }

  /** Restores the open shift and starts the page; resolves with its URL when it serves one. */
  async start(): Promise<string | undefined> {
    this.shift.start();
    this.options.runtime.setDriverCardHandler(this.cardSignOn);
    return this.server?.start();
  }

  async stop(): Promise<void> {
    this.options.runtime.setDriverCardHandler(undefined);
    await this.server?.stop();
    this.state.detach();
    await this.shift.stop();
    this.shiftStore.close();
  }
}
