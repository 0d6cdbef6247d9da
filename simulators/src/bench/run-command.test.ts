import { describe, expect, it } from 'vitest';
import { RUN_USAGE, UsageError, parseRunArgs } from './run-command.js';

describe('bench run arguments', () => {
  it('takes --port 0 for free ports everywhere', () => {
    const settings = parseRunArgs(['--port', '0']);
    expect(settings).not.toBe('help');
    if (settings === 'help') return;
    expect(settings.mqttPort).toBe(0);
    expect(settings.httpPort).toBe(0);
  });

  it('names the per-service options for another --port', () => {
    expect(() => parseRunArgs(['--port', '5000'])).toThrow(UsageError);
    expect(() => parseRunArgs(['--port', '5000'])).toThrow(/only --port 0 .* --mqtt-port, --http-port and --screen-port/);
  });

  it('rejects one port for broker and console', () => {
    expect(() => parseRunArgs(['--mqtt-port', '9000', '--http-port', '9000'])).toThrow(/--mqtt-port and --http-port/);
  });

  it('rejects a console port among screen ports', () => {
    // Bus 2 of 3 would take 8080, the default console port.
    expect(() => parseRunArgs(['--screen-port', '8079', '--buses', '3'])).toThrow(/--http-port and --screen-port/);
  });

  it('accepts screen ports next to the console', () => {
    expect(() => parseRunArgs(['--screen-port', '8081', '--buses', '3'])).not.toThrow();
  });
});

describe('bench run help', () => {
  it('says warnings stay in bench.log', () => {
    // runBench logs to bench.log and sets stderr's level to error.
    expect(RUN_USAGE.replace(/\s+/g, ' ')).toContain('stderr shows only its error entries, and warnings stay in bench.log');
  });

  it('says what --duration covers', () => {
    // runBench starts its --duration timer after city.start() and drains with a 60 s limit.
    const text = RUN_USAGE.replace(/\s+/g, ' ');
    expect(text).toContain('Stop the riders after this many seconds, counted from when the buses start');
    expect(text).toContain('draining the backlogs after it (at most 60 s), add to the run\'s wall time');
  });
});
