import { terminalMain } from './cli/terminal-main.js';

terminalMain(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`busfare-terminal: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
