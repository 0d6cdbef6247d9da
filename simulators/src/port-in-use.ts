import type { RunSettings } from './bench/run-command.js';

type BenchPorts = Pick<RunSettings, 'mqttPort' | 'httpPort' | 'screenPort' | 'buses'>;

/** Returns the `busfare-bench run` option that sets the port, or undefined when none matches. */
function portOption(ports: BenchPorts, port: number): string | undefined {
  if (port === ports.httpPort) return '--http-port';
  if (port === ports.mqttPort) return '--mqtt-port';
  // Bus i serves its driver page on screenPort + i.
  if (ports.screenPort !== 0 && port >= ports.screenPort && port < ports.screenPort + ports.buses) return '--screen-port';
  return undefined;
}

function given(args: readonly string[], option: string): boolean {
  return args.some((arg) => arg === option || arg.startsWith(`${option}=`));
}

/**
 * Words a port that another program holds: the port, the option that sets it and how to pick
 * another. `args` are the `busfare-bench run` arguments. The text suggests --port 0 only when it
 * was not given and the failed port did not come from an explicit option, which it does not override.
 */
export function portInUseText(port: number | undefined, ports: BenchPorts | undefined, args: readonly string[]): string {
  const inUse = `port ${port ?? '(unknown)'} on 127.0.0.1 is already in use`;
  const option = ports === undefined || port === undefined ? undefined : portOption(ports, port);
  const portZeroHelps = !given(args, '--port') && (option === undefined || !given(args, option));
  if (option === undefined) {
    const choose = 'choose other ports with --http-port, --mqtt-port and --screen-port';
    return `${inUse}: stop the program that holds it, or ${portZeroHelps ? `pass --port 0 to pick free ports, or ${choose}` : choose}`;
  }
  return `${inUse}: stop the program that holds it, or pass another ${option} (0 picks a free port)${portZeroHelps ? ' or --port 0 to pick free ports for all' : ''}`;
}
