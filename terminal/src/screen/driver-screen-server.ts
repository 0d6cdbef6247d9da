import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { driverServiceRequestSchema, driverSignOffRequestSchema, driverSignOnRequestSchema } from '@busfare/shared-protocol';
import type { Logger } from '../logger.js';
import { ShiftError, type DriverShift } from '../shift/driver-shift.js';
import { DRIVER_PAGE_SCRIPT } from './driver-page-script.js';
import { DRIVER_PAGE_CSS } from './driver-page-style.js';
import { driverPageHtml } from './driver-page.js';
import type { DriverScreenState } from './driver-screen-state.js';
import { SnapshotStream } from './snapshot-stream.js';

/** Default port of the first terminal's driver screen; the bench gives each bus the next one. */
export const DEFAULT_DRIVER_SCREEN_PORT = 8091;

/** The kiosk browser runs on the validator itself, so the page is served on loopback only. */
const HOST = '127.0.0.1';

export interface DriverScreenServerOptions {
  state: DriverScreenState;
  shift: DriverShift;
  logger: Logger;
  /** TCP port; 0 picks a free one (default DEFAULT_DRIVER_SCREEN_PORT). */
  port?: number;
  /** Milliseconds between snapshot checks for changes that raise no event (link, backlog, GPS age). */
  refreshMs?: number;
}

const ERROR_STATUS: Record<ShiftError['code'], number> = {
  'invalid-driver': 400,
  'unknown-service': 400,
  'already-signed-on': 409,
  'not-signed-on': 409,
};

// img-src data: admits only the page's empty icon, which keeps the browser from asking for /favicon.ico.
const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The driver's page for the kiosk browser on the validator's display: `GET /` with its script and
 * style, the live state as Server-Sent Events on `GET /events`, `GET /api/state`, and the shift
 * actions `POST /api/shift/sign-on`, `/service` and `/sign-off` with JSON bodies.
 */
export class DriverScreenServer {
  private readonly app: FastifyInstance;
  private readonly stream = new SnapshotStream();
  private readonly logger: Logger;
  private refreshTimer?: NodeJS.Timeout;
  private pending?: NodeJS.Immediate;
  private baseUrl?: string;
  private readonly onChange = () => this.schedulePublish();

  constructor(private readonly options: DriverScreenServerOptions) {
    this.logger = options.logger.child({ component: 'driver-screen' });
    this.app = Fastify({
      loggerInstance: this.logger as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: 4096,
    });
    this.routes();
  }

  /** Listens on 127.0.0.1 and returns the page URL. */
  async start(): Promise<string> {
    const port = this.options.port ?? DEFAULT_DRIVER_SCREEN_PORT;
    await this.app.listen({ host: HOST, port });
    const address = this.app.server.address() as AddressInfo;
    this.baseUrl = `http://${HOST}:${address.port}/`;
    this.options.state.on('change', this.onChange);
    this.refreshTimer = setInterval(() => this.publish(), this.options.refreshMs ?? 1_000);
    this.refreshTimer.unref();
    this.publish();
    this.logger.info({ url: this.baseUrl }, 'driver screen listening');
    return this.baseUrl;
  }

  get url(): string {
    if (!this.baseUrl) throw new Error('the driver screen server is not started');
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    this.options.state.off('change', this.onChange);
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    if (this.pending) clearImmediate(this.pending);
    this.stream.close();
    await this.app.close();
  }

  private routes(): void {
    const { app } = this;
    const { state, shift } = this.options;

    // A page on another host name could reach this loopback server through DNS rebinding; only
    // requests addressed to the loopback host are served.
    app.addHook('onRequest', async (request, reply) => {
      const host = request.headers.host ?? '';
      const port = (this.app.server.address() as AddressInfo | null)?.port;
      if (host !== `${HOST}:${port}` && host !== `localhost:${port}`) {
        return reply.code(421).send({ code: 'wrong-host', message: `host "${host}" is not served here; open ${this.baseUrl ?? 'the loopback address'}` });
      }
    });
    app.addHook('onSend', async (_request, reply) => {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('cache-control', 'no-store');
    });

    app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(driverPageHtml()));
    app.get('/driver.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(DRIVER_PAGE_SCRIPT));
    app.get('/driver.css', async (_request, reply) => reply.type('text/css; charset=utf-8').send(DRIVER_PAGE_CSS));
    app.get('/api/state', async () => state.snapshot());
    app.get('/events', (_request, reply) => {
      reply.hijack();
      this.stream.open(reply.raw);
    });

    app.post('/api/shift/sign-on', async (request, reply) => {
      const body = driverSignOnRequestSchema.safeParse(request.body);
      if (!body.success) return invalidRequest(reply, body.error);
      return this.act(reply, () => shift.signOn(body.data.driverId));
    });
    app.post('/api/shift/service', async (request, reply) => {
      const body = driverServiceRequestSchema.safeParse(request.body);
      if (!body.success) return invalidRequest(reply, body.error);
      return this.act(reply, () => shift.confirmService(body.data.route, body.data.direction));
    });
    app.post('/api/shift/sign-off', async (request, reply) => {
      const body = driverSignOffRequestSchema.safeParse(request.body ?? {});
      if (!body.success) return invalidRequest(reply, body.error);
      return this.act(reply, () => shift.signOff());
    });
  }

  private act(reply: FastifyReply, action: () => unknown): unknown {
    try {
      const result = action();
      this.publish();
      return reply.send(result);
    } catch (error) {
      if (!(error instanceof ShiftError)) throw error;
      this.logger.info({ code: error.code, reason: error.message }, 'driver screen request rejected');
      return reply.code(ERROR_STATUS[error.code]).send({ code: error.code, message: error.message });
    }
  }

  private schedulePublish(): void {
    this.pending ??= setImmediate(() => {
      this.pending = undefined;
      this.publish();
    });
  }

  private publish(): void {
    try {
      this.stream.publish(this.options.state.snapshot());
    } catch (error) {
      this.logger.error({ err: error }, 'failed to build the driver screen state');
    }
  }
}

function invalidRequest(reply: FastifyReply, error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): FastifyReply {
  const message = error.issues.map((issue) => `${issue.path.map(String).join('.') || 'body'}: ${issue.message}`).join('; ');
  return reply.code(400).send({ code: 'invalid-request', message: `invalid request body: ${message}` });
}
