import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TerminalConfigError, loadTerminalConfig, parseReaderNameFilter } from './terminal-config.js';

let directory: string;

const valid = {
  terminalId: 'T001',
  vehicleId: 'V001',
  dataDir: '/var/lib/busfare',
  broker: { url: 'mqtt://127.0.0.1:1883', username: 'T001', password: 'secret' },
  parameterPublicKeyFile: '/etc/busfare/parameters.pub.pem',
  reader: { kind: 'socket', path: '/run/busfare/reader.sock' },
};

function write(value: unknown): string {
  const path = join(directory, 'terminal.json');
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

function problemsOf(path: string): string[] {
  try {
    loadTerminalConfig(path);
  } catch (error) {
    if (error instanceof TerminalConfigError) return error.problems;
    throw error;
  }
  throw new Error('config was accepted');
}

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-terminal-config-'));
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe('loadTerminalConfig', () => {
  it('accepts a minimal config with defaults', () => {
    const config = loadTerminalConfig(write(valid));
    expect(config.clockOffsetMs).toBe(0);
    expect(config.utcOffsetMinutes).toBe(480);
    expect(config.uplink).toEqual({});
  });

  it('rejects a missing file', () => {
    expect(problemsOf(join(directory, 'missing.json'))[0]).toMatch(/cannot read the file/);
  });

  it('rejects invalid JSON', () => {
    expect(problemsOf(write('{"terminalId": '))[0]).toMatch(/invalid JSON/);
  });

  it('names a missing required key', () => {
    const withoutKey: Record<string, unknown> = { ...valid };
    delete withoutKey.parameterPublicKeyFile;
    expect(problemsOf(write(withoutKey))).toContain('parameterPublicKeyFile: required, but missing (expected string)');
  });

  it('rejects unknown keys', () => {
    expect(problemsOf(write({ ...valid, colour: 'red' })).join('\n')).toMatch(/colour/);
  });

  it('rejects a bad terminal id and broker url', () => {
    const problems = problemsOf(write({ ...valid, terminalId: 'T 1/x', broker: { url: 'http://127.0.0.1' } })).join('\n');
    expect(problems).toMatch(/terminalId/);
    expect(problems).toMatch(/broker\.url/);
  });

  it('rejects an unknown reader kind', () => {
    expect(problemsOf(write({ ...valid, reader: { kind: 'usb', path: 'x' } })).join('\n')).toMatch(/reader\.kind/);
  });

  it('accepts a PC/SC reader with a serial GPS receiver', () => {
    const config = loadTerminalConfig(
      write({ ...valid, reader: { kind: 'pcsc', readerName: 'ACR1252', psamReaderName: '/SAM|01$/i' }, gps: { kind: 'serial', path: '/dev/ttyUSB0', baudRate: 9600, rescanPattern: '/dev/ttyUSB*' } }),
    );
    expect(config.reader).toEqual({ kind: 'pcsc', readerName: 'ACR1252', psamReaderName: '/SAM|01$/i' });
    expect(config.gps).toEqual({ kind: 'serial', path: '/dev/ttyUSB0', baudRate: 9600, rescanPattern: '/dev/ttyUSB*' });
  });

  it('accepts a PC/SC reader with default slots, gpsd and an NMEA file', () => {
    expect(loadTerminalConfig(write({ ...valid, reader: { kind: 'pcsc' }, gps: { kind: 'gpsd', host: '::1', port: 2947 } })).gps).toEqual({ kind: 'gpsd', host: '::1', port: 2947 });
    expect(loadTerminalConfig(write({ ...valid, gps: { kind: 'nmea-file', path: 'trip.nmea', speed: 10, loop: true } })).gps?.kind).toBe('nmea-file');
  });

  it('accepts a serial reader module with its path, baud rate and PSAM slot', () => {
    const config = loadTerminalConfig(write({ ...valid, reader: { kind: 'serial', path: '/dev/ttyS1', baudRate: 115200, psamReaderName: 'SAM' } }));
    expect(config.reader).toEqual({ kind: 'serial', path: '/dev/ttyS1', baudRate: 115200, psamReaderName: 'SAM' });
  });

  it('rejects invalid serial reader settings', () => {
    expect(problemsOf(write({ ...valid, reader: { kind: 'serial' } }))).toEqual([expect.stringMatching(/^reader\.path:/)]);
    expect(problemsOf(write({ ...valid, reader: { kind: 'serial', path: '/dev/ttyS1', baudRate: 1200 } }))).toEqual([expect.stringMatching(/^reader\.baudRate:/)]);
    expect(problemsOf(write({ ...valid, reader: { kind: 'serial', path: '/dev/ttyS1', baudRate: '115200' } }))).toEqual([expect.stringMatching(/^reader\.baudRate:/)]);
    expect(problemsOf(write({ ...valid, reader: { kind: 'serial', path: '/dev/ttyS1', baud: 115200 } })).join('\n')).toMatch(/reader: .*baud/);
    expect(problemsOf(write({ ...valid, reader: { kind: 'serial', path: '/dev/ttyS1', readerName: 'ACR' } })).join('\n')).toMatch(/reader: .*readerName/);
  });

  it('rejects a serial baud rate the PN532 does not support', () => {
    for (const baudRate of [100_000, 250_000, 1_000_000]) {
      expect(problemsOf(write({ ...valid, reader: { kind: 'serial', path: '/dev/ttyS1', baudRate } }))).toEqual([expect.stringMatching(/^reader\.baudRate: must be a PN532 HSU rate: 9600, .*1288000/)]);
    }
    expect(loadTerminalConfig(write({ ...valid, reader: { kind: 'serial', path: '/dev/ttyS1', baudRate: 921_600 } })).reader).toMatchObject({ baudRate: 921_600 });
  });

  it('rejects a socket path on a PC/SC reader', () => {
    expect(problemsOf(write({ ...valid, reader: { kind: 'pcsc', path: 'x' } })).join('\n')).toMatch(/reader: .*path/);
  });

  it('rejects a reader name that is not a valid regular expression', () => {
    expect(problemsOf(write({ ...valid, reader: { kind: 'pcsc', psamReaderName: '/(unclosed/' } }))).toEqual(['reader.psamReaderName: not a valid /pattern/flags regular expression']);
  });

  it('rejects gpsd on another host', () => {
    expect(problemsOf(write({ ...valid, gps: { kind: 'gpsd', host: '192.0.2.1' } })).join('\n')).toMatch(/gps\.host: must be 127\.0\.0\.1 or ::1/);
  });

  it('rejects an unknown GPS kind and bad serial settings', () => {
    expect(problemsOf(write({ ...valid, gps: { kind: 'bluetooth' } })).join('\n')).toMatch(/gps\.kind/);
    expect(problemsOf(write({ ...valid, gps: { kind: 'serial', path: '', baudRate: 12 } })).length).toBe(2);
  });

  it('defaults the driver card settings', () => {
    expect(loadTerminalConfig(write(valid)).driverCards).toEqual({ typeCodes: [10], driverNumberDigits: 8 });
    expect(loadTerminalConfig(write({ ...valid, driverCards: { typeCodes: [10, 70], driverNumberDigits: 6 } })).driverCards).toEqual({ typeCodes: [10, 70], driverNumberDigits: 6 });
  });

  const badDriverCards: { name: string; driverCards: unknown; path: string }[] = [
    { name: 'a code above one byte', driverCards: { typeCodes: [256] }, path: 'driverCards.typeCodes.0' },
    { name: 'a negative code', driverCards: { typeCodes: [-1] }, path: 'driverCards.typeCodes.0' },
    { name: 'a fractional code', driverCards: { typeCodes: [10.5] }, path: 'driverCards.typeCodes.0' },
    { name: 'no code', driverCards: { typeCodes: [] }, path: 'driverCards.typeCodes' },
    { name: 'a repeated code', driverCards: { typeCodes: [10, 10] }, path: 'driverCards.typeCodes' },
    { name: 'zero digits', driverCards: { driverNumberDigits: 0 }, path: 'driverCards.driverNumberDigits' },
    { name: 'seventeen digits', driverCards: { driverNumberDigits: 17 }, path: 'driverCards.driverNumberDigits' },
    { name: 'an unknown key', driverCards: { signOffSeconds: 5 }, path: 'driverCards' },
  ];
  for (const entry of badDriverCards) {
    it(`rejects driver cards with ${entry.name}`, () => {
      const problems = problemsOf(write({ ...valid, driverCards: entry.driverCards }));
      expect(problems.map((problem) => problem.split(':')[0])).toEqual([entry.path]);
    });
  }

  it('defaults the driver screen to port 8091', () => {
    expect(loadTerminalConfig(write(valid)).driverScreen).toEqual({ enabled: true, port: 8091 });
  });

  it('accepts every driver screen setting', () => {
    const driverScreen = { enabled: false, port: 0, shiftDb: '/var/lib/busfare/shifts.db', signOffTapWindowSeconds: 30, riderTapsWithoutShift: 'reject' };
    expect(loadTerminalConfig(write({ ...valid, driverScreen })).driverScreen).toEqual(driverScreen);
  });

  const badDriverScreens: { name: string; driverScreen: unknown; path: string; message: RegExp }[] = [
    { name: 'a port above 65535', driverScreen: { port: 70_000 }, path: 'driverScreen.port', message: /TCP port number from 0 to 65535/ },
    { name: 'a negative port', driverScreen: { port: -1 }, path: 'driverScreen.port', message: /TCP port number from 0 to 65535/ },
    { name: 'a fractional port', driverScreen: { port: 8091.5 }, path: 'driverScreen.port', message: /whole TCP port number/ },
    { name: 'a port as text', driverScreen: { port: '8091' }, path: 'driverScreen.port', message: /TCP port number from 0 to 65535/ },
    { name: 'a negative sign-off window', driverScreen: { signOffTapWindowSeconds: -5 }, path: 'driverScreen.signOffTapWindowSeconds', message: /seconds from 3 to 600/ },
    { name: 'a 2 s sign-off window', driverScreen: { signOffTapWindowSeconds: 2 }, path: 'driverScreen.signOffTapWindowSeconds', message: /same presentation/ },
    { name: 'a sign-off window above 600 s', driverScreen: { signOffTapWindowSeconds: 601 }, path: 'driverScreen.signOffTapWindowSeconds', message: /seconds from 3 to 600/ },
    { name: 'an unknown rider tap rule', driverScreen: { riderTapsWithoutShift: 'ignore' }, path: 'driverScreen.riderTapsWithoutShift', message: /"accept" or "reject"/ },
    { name: 'an empty shift file path', driverScreen: { shiftDb: '' }, path: 'driverScreen.shiftDb', message: /./ },
    { name: 'a host', driverScreen: { host: '0.0.0.0' }, path: 'driverScreen', message: /host/ },
  ];
  for (const entry of badDriverScreens) {
    it(`rejects a driver screen with ${entry.name}`, () => {
      const problems = problemsOf(write({ ...valid, driverScreen: entry.driverScreen }));
      expect(problems.map((problem) => problem.split(':')[0])).toEqual([entry.path]);
      expect(problems[0]).toMatch(entry.message);
    });
  }

  it('lists every problem at once', () => {
    const problems = problemsOf(write({ ...valid, vehicleId: '', reader: { kind: 'pcsc', readerName: '' }, gps: { kind: 'nmea-file', path: 'x', speed: -1 } }));
    expect(problems.map((problem) => problem.split(':')[0])).toEqual(['vehicleId', 'reader.readerName', 'gps.speed']);
  });
});

describe('parseReaderNameFilter', () => {
  it('turns /pattern/flags into a RegExp and keeps other names as text', () => {
    expect(parseReaderNameFilter('/^ACS.*PICC/i')).toEqual(/^ACS.*PICC/i);
    expect(parseReaderNameFilter('Virtual PCD 00 00')).toBe('Virtual PCD 00 00');
    expect(parseReaderNameFilter('/[/')).toBe('/[/');
  });
});
