import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

export const MOSQUITTO_BINARY = '/usr/sbin/mosquitto';

/** Returns whether Debian's mosquitto is installed (`apt-get install mosquitto`). */
export function mosquittoAvailable(): boolean {
  return existsSync(MOSQUITTO_BINARY);
}

/** A mosquitto process that the test started, on 127.0.0.1, with disk persistence. */
export class MosquittoBroker {
  private child: ChildProcess | undefined;
  readonly log: string[] = [];

  private constructor(
    readonly directory: string,
    readonly port: number,
  ) {}

  /**
   * Writes a config into `directory` and starts mosquitto on a free port of 127.0.0.1. The
   * persistence folder belongs to the mosquitto user, because mosquitto started as root drops to
   * that user and would otherwise fail to save its queue at shutdown.
   */
  static async start(directory: string): Promise<MosquittoBroker> {
    const port = await freePort();
    const persistence = join(directory, 'persistence');
    mkdirSync(persistence, { recursive: true });
    // The mosquitto user must be able to reach the persistence folder through the temp folder.
    chmodSync(directory, 0o711);
    execFileSync('chown', ['mosquitto:', persistence]);
    writeFileSync(
      join(directory, 'mosquitto.conf'),
      [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence true', `persistence_location ${persistence}/`, 'log_dest stderr', 'max_queued_messages 200000', ''].join('\n'),
    );
    const broker = new MosquittoBroker(directory, port);
    await broker.launch();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Stops mosquitto by its PID with SIGTERM (it saves its persistence file) and waits for the exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  private async launch(): Promise<void> {
    const child = spawn(MOSQUITTO_BINARY, ['-c', join(this.directory, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => this.log.push(chunk.toString('utf8')));
    this.child = child;
    await waitForPort(this.port, 10_000, () => child.exitCode !== null);
    if (child.exitCode !== null) throw new Error(`mosquitto exited with code ${child.exitCode}: ${this.log.join('')}`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, failed: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !failed()) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!failed()) throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}
