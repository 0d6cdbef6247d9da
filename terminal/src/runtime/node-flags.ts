/**
 * V8 flags the terminal's process runs with. V8 reads them only when the heap is set up, so they
 * must be on the node command line, where the terminal's bin puts them through its shebang.
 * `v8.setFlagsFromString` at run time has no effect.
 *
 * - `--no-memory-reducer`: in the tap benchmark the memory reducer ran three full mark-compact
 *   collections some 15 to 35 s after a busy period, to hand memory back while the process looked
 *   idle. A validator is idle between riders, so those collections land in the next rider's tap
 *   and delay it by several milliseconds.
 * - `--max-semi-space-size=2` (MiB): by default each semi-space of the young generation grows to
 *   16 MiB. Start-up (the parameter sets, a blacklist of a million cards) grows it, and the memory
 *   stays resident. With 2 MiB the terminal with a million-card blacklist measured 104 to 113 MB
 *   resident instead of 124 to 127 MB, and the tap benchmark's software share did not grow.
 */
export const TERMINAL_NODE_FLAGS: readonly string[] = ['--no-memory-reducer', '--max-semi-space-size=2'];

/** Lists the terminal's flags that a process was started without. */
export function missingTerminalNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return TERMINAL_NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}
