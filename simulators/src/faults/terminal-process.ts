import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TERMINAL_NODE_FLAGS, type Logger, type TerminalConfig } from '@busfare/terminal';

/** Path of the `busfare-terminal` launcher; BUSFARE_TERMINAL_BIN replaces it. */
export function terminalBinPath(): string {
  const override = process.env.BUSFARE_TERMINAL_BIN;
  if (override) return override;
  const packageJson = createRequire(import.meta.url).resolve('@busfare/terminal/package.json');
  return join(dirname(packageJson), 'bin', 'busfare-terminal.js');
}

/**
 * One `busfare-terminal run` process that a fault test starts, kills with SIGKILL (a crash: no
 * handler runs, nothing is flushed that was not already on disk) and starts again by its PID.
 */
export class TerminalProcess {
  private child: ChildProcess | undefined;
  kills = 0;
  starts = 0;
  private readonly stderrTail: string[] = [];

  constructor(
    readonly configPath: string,
    private config: TerminalConfig,
    private readonly logger: Logger,
  ) {}

  get terminalId(): string {
    return this.config.terminalId;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get clockOffsetMs(): number {
    return this.config.clockOffsetMs;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Writes the config (with any change) and starts the process. */
  start(change: Partial<TerminalConfig> = {}): void {
    if (this.running) return;
    this.config = { ...this.config, ...change };
    writeFileSync(this.configPath, `${JSON.stringify(this.config, null, 2)}\n`);
    const child = spawn(process.execPath, [...TERMINAL_NODE_FLAGS, terminalBinPath(), 'run', '--config', this.configPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, BUSFARE_LOG_LEVEL: process.env.BUSFARE_TERMINAL_LOG_LEVEL ?? 'warn' },
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail.push(chunk.toString('utf8'));
      if (this.stderrTail.length > 50) this.stderrTail.shift();
    });
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal !== 'SIGKILL' && signal !== 'SIGTERM') this.logger.warn({ terminalId: this.terminalId, code, signal, stderr: this.stderrTail.join('').slice(-2000) }, 'terminal process exited');
    });
    this.child = child;
    this.starts += 1;
  }

  /** SIGKILL by PID; resolves when the process is gone. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    this.kills += 1;
    await exited;
  }

  /** SIGTERM by PID (a clean stop); SIGKILL after timeoutMs. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  recentStderr(): string {
    return this.stderrTail.join('');
  }
}
