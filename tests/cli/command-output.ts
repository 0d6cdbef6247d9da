import { vi } from 'vitest';

/** A command's exit code and what it wrote on stdout and stderr. */
export interface CommandOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** A command-line entry point that takes the arguments and returns the exit code. */
export type CommandRunner = (args: string[]) => Promise<number>;

/** Writes captured from process.stdout and process.stderr since the last capture started. */
export interface CapturedOutput {
  readonly stdout: string;
  readonly stderr: string;
  /** Runs the command with empty captures and returns its exit code and output. */
  run(runner: CommandRunner, args: string[]): Promise<CommandOutput>;
}

/**
 * Replaces process.stdout.write and process.stderr.write with spies that collect the text. Call it
 * in beforeEach, and restore the streams with vi.restoreAllMocks() in afterEach.
 */
export function captureOutput(): CapturedOutput {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    async run(runner, args) {
      stdout = '';
      stderr = '';
      const code = await runner(args);
      return { code, stdout, stderr };
    },
  };
}
