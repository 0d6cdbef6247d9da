/**
 * V8 flags the terminal's process runs with. V8's memory reducer runs up to three full
 * mark-compact collections some 15 to 35 s after a busy period, to hand memory back while a
 * program looks idle. A validator is idle between riders, so those collections land in the next
 * rider's tap and delay it by several milliseconds. The terminal's heap is small and stays
 * small, so keeping the memory costs little. V8 reads this flag only when the heap is set up:
 * it must be on the node command line (the terminal's bin passes it in its shebang), and
 * `v8.setFlagsFromString` at run time has no effect.
 */
export const TERMINAL_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];

/** Lists the terminal's flags that a process was started without. */
export function missingTerminalNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return TERMINAL_NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}
