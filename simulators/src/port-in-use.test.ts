import { describe, expect, it } from 'vitest';
import { portInUseText } from './port-in-use.js';

const DEFAULT_PORTS = { mqttPort: 1883, httpPort: 8080, screenPort: 8091, buses: 3 };

describe('portInUseText', () => {
  it('names the console port option and --port 0', () => {
    expect(portInUseText(8080, DEFAULT_PORTS, [])).toBe(
      'port 8080 on 127.0.0.1 is already in use: stop the program that holds it, or pass another --http-port (0 picks a free port) or --port 0 to pick free ports for all',
    );
  });

  it('names the screen option for a later bus', () => {
    expect(portInUseText(8093, DEFAULT_PORTS, [])).toContain('pass another --screen-port');
  });

  it('leaves out --port 0 once given', () => {
    const text = portInUseText(45123, { mqttPort: 0, httpPort: 45123, screenPort: 0, buses: 3 }, ['--port', '0', '--http-port', '45123']);
    expect(text).toBe('port 45123 on 127.0.0.1 is already in use: stop the program that holds it, or pass another --http-port (0 picks a free port)');
  });

  it('leaves out --port 0 for an explicit option', () => {
    const text = portInUseText(1883, DEFAULT_PORTS, ['--mqtt-port=1883']);
    expect(text).toBe('port 1883 on 127.0.0.1 is already in use: stop the program that holds it, or pass another --mqtt-port (0 picks a free port)');
  });

  it('lists every option for an unknown port', () => {
    expect(portInUseText(9999, DEFAULT_PORTS, [])).toBe(
      'port 9999 on 127.0.0.1 is already in use: stop the program that holds it, or pass --port 0 to pick free ports, or choose other ports with --http-port, --mqtt-port and --screen-port',
    );
  });
});
