import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_EPOCH_RECORDS } from './epoch-assembler.js';
import { NmeaFixPipeline, type NmeaEvent, type NmeaFixPipelineOptions } from './fix-pipeline.js';
import { applyWeekRolloverRule, GPS_WEEK_ROLLOVER_MS } from './gps-date.js';
import { LineSplitter } from './line-splitter.js';
import { epoch, sentence } from './nmea-test-helpers.js';

const NOW = new Date('2026-12-04T12:00:00Z');
const OLD_RECORDINGS = { notBefore: new Date('2000-01-01T00:00:00Z'), now: () => NOW };

function run(input: string | Buffer, options: Partial<NmeaFixPipelineOptions> = {}): NmeaEvent[] {
  const pipeline = new NmeaFixPipeline({ ...OLD_RECORDINGS, ...options });
  return [...pipeline.push(input), ...pipeline.end()];
}

function fixes(events: NmeaEvent[]) {
  return events.flatMap((event) => (event.kind === 'fix' ? [event.fix] : []));
}

function reasons(events: NmeaEvent[]) {
  return events.flatMap((event) => (event.kind === 'fix' ? [] : [`${event.kind} ${event.line}: ${event.reason}`]));
}

describe('LineSplitter', () => {
  it('splits on LF and CR LF', () => {
    const splitter = new LineSplitter();
    const lines = [...splitter.push('a\r\nb\nc\r\n\nd'), ...splitter.end()];
    expect(lines).toEqual([
      { lineNumber: 1, text: 'a' },
      { lineNumber: 2, text: 'b' },
      { lineNumber: 3, text: 'c' },
      { lineNumber: 4, text: '' },
      { lineNumber: 5, text: 'd' },
    ]);
  });

  it('joins a CR LF split between chunks', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('abc\r')).toEqual([]);
    expect(splitter.push('\ndef\n')).toEqual([
      { lineNumber: 1, text: 'abc' },
      { lineNumber: 2, text: 'def' },
    ]);
  });

  it('drops an overlong line and keeps going', () => {
    const splitter = new LineSplitter({ maxLineBytes: 8 });
    const lines = [...splitter.push('12345'), ...splitter.push('67890abc\nok\n')];
    expect(lines).toEqual([
      { lineNumber: 1, text: '', droppedBytes: 13 },
      { lineNumber: 2, text: 'ok' },
    ]);
  });

  it('keeps a line of exactly the maximum with its CR', () => {
    const splitter = new LineSplitter({ maxLineBytes: 4 });
    expect(splitter.push('abcd\r\nabcde\n')).toEqual([
      { lineNumber: 1, text: 'abcd' },
      { lineNumber: 2, text: '', droppedBytes: 5 },
    ]);
  });

  it('reports an overlong unterminated last line at the end', () => {
    const splitter = new LineSplitter({ maxLineBytes: 4 });
    expect(splitter.push('abcdefgh')).toEqual([]);
    expect(splitter.end()).toEqual([{ lineNumber: 1, text: '', droppedBytes: 8 }]);
  });

  it('rejects a maximum below 1', () => {
    expect(() => new LineSplitter({ maxLineBytes: 0 })).toThrow(/maxLineBytes must be a positive integer/);
  });
});

describe('NmeaFixPipeline epochs', () => {
  it('merges RMC, GGA and GSA of one epoch into one fix', () => {
    const events = run([...epoch('120000.00'), ...epoch('120001.00')].join('\r\n') + '\r\n');
    expect(reasons(events)).toEqual([]);
    const [first] = fixes(events);
    expect(fixes(events)).toHaveLength(2);
    expect(first).toEqual({
      time: new Date('2022-09-11T12:00:00.000Z'),
      lat: expect.closeTo(31.247950, 6),
      lon: expect.closeTo(121.587438, 6),
      speedMps: expect.closeTo(5.144, 3),
      courseDeg: 90,
      quality: 1,
      satellites: 8,
      hdop: 1.2,
      talker: 'GP',
    });
  });

  it('takes satellites and HDOP from GNS over a GPS-only GGA', () => {
    const lines = [
      sentence('GPGGA,191503.01,3645.876324,N,03124.670280,E,1,03,1.3,-6.7,M,32.0,M,,'),
      sentence('GNGNS,191503.01,3645.876324,N,03124.670280,E,AAN,08,1.1,-6.7,32.0,,,V'),
      sentence('GPRMC,191503.01,A,3645.876324,N,03124.670280,E,1.3,300.5,110922,3.6,E,A,V'),
    ];
    const [fix] = fixes(run(lines.join('\n')));
    expect(fix?.satellites).toBe(8);
    expect(fix?.hdop).toBe(1.1);
    expect(fix?.quality).toBe(1);
  });

  it('uses GNS and RMC when GGA is missing', () => {
    const lines = [
      sentence('GNGNS,074155.799,3114.8770,N,12135.2463,E,DNNA,05,1.3,156.9,8.3,,0000'),
      sentence('GNRMC,074155.799,A,3114.8770,N,12135.2463,E,0.30,4.94,250215,,,D'),
    ];
    const [fix] = fixes(run(lines.join('\n')));
    expect(fix?.quality).toBe(2);
    expect(fix?.talker).toBe('GN');
    expect(fix?.time?.toISOString()).toBe('2015-02-25T07:41:55.799Z');
  });

  it('takes speed and course from VTG and the date from ZDA', () => {
    const lines = [
      sentence('GPGGA,201530.00,3114.8770,N,12135.2463,E,2,09,0.9,10.0,M,8.3,M,,'),
      sentence('GPVTG,45.0,T,,M,,N,36.0,K,D'),
      sentence('GPZDA,201530.00,04,07,2024,00,00'),
    ];
    const [fix] = fixes(run(lines.join('\n')));
    expect(fix?.speedMps).toBe(10);
    expect(fix?.courseDeg).toBe(45);
    expect(fix?.time?.toISOString()).toBe('2024-07-04T20:15:30.000Z');
  });

  it('gives a null time to an epoch without a date', () => {
    const [fix] = fixes(run(sentence('GPGGA,120000,3114.8770,N,12135.2463,E,1,08,1.2,10.0,M,8.3,M,,')));
    expect(fix?.time).toBeNull();
  });

  it('keeps time-less no-fix sentences in the open epoch', () => {
    const lines = [
      sentence('GNGNS,191434.96,,,,,NNN,,,,,,'),
      sentence('GPGSA,A,1,,,,,,,,,,,,,,,,'),
      sentence('GPGGA,,,,,,0,,,,,,,,'),
      sentence('GPRMC,,V,,,,,,,,,,N'),
      sentence('GNGNS,191435.96,,,,,NNN,,,,,,'),
      sentence('GPRMC,,V,,,,,,,,,,N'),
    ];
    expect(reasons(run(lines.join('\n')))).toEqual(['ignored 4: no fix: RMC status V', 'ignored 6: no fix: RMC status V']);
  });

  it('closes each time-less no-fix epoch on its next RMC', () => {
    // A receiver without a fix (an underground depot) may send RMC and GGA with empty time fields for hours.
    const noFix = [sentence('GPRMC,,V,,,,,,,,,,N'), sentence('GPGGA,,,,,,0,00,99.99,,,,,,'), sentence('GPGSA,A,1,,,,,,,,,,,,,99.99,99.99,99.99')];
    const pipeline = new NmeaFixPipeline(OLD_RECORDINGS);
    const events: NmeaEvent[] = [];
    for (let second = 0; second < 1000; second++) events.push(...pipeline.push(`${noFix.join('\r\n')}\r\n`));

    expect(events).toHaveLength(999);
    expect(events[0]).toEqual({ kind: 'ignored', line: 1, reason: 'no fix: RMC status V' });
    expect(events[998]).toEqual({ kind: 'ignored', line: 2995, reason: 'no fix: RMC status V' });
  });

  it('keeps the dated fix of an RMC with an out-of-range speed or course', () => {
    for (const [speed, course] of [['-0.1', '90.0'], ['10.0', '400.0']]) {
      const lines = [sentence(`GPRMC,120000,A,3114.8770,N,12135.2463,E,${speed},${course},110922,,,A`), sentence('GPGGA,120000,3114.8770,N,12135.2463,E,1,08,1.2,10.0,M,8.3,M,,')];
      const found = fixes(run(lines.join('\n')));

      expect(found, `${speed} ${course}`).toHaveLength(1);
      expect(found[0]!.time, `${speed} ${course}`).toEqual(new Date('2022-09-11T12:00:00Z'));
      expect(found[0]!.lat, `${speed} ${course}`).toBeCloseTo(31.24795, 5);
    }
  });

  it('closes an epoch that never changes time', () => {
    const pipeline = new NmeaFixPipeline(OLD_RECORDINGS);
    const events: NmeaEvent[] = [];
    for (let repeat = 0; repeat < 10_000; repeat++) events.push(...pipeline.push(`${sentence('GPGSA,A,1,,,,,,,,,,,,,99.99,99.99,99.99')}\n`));

    expect(events.length).toBeGreaterThan(0);
    expect(events.every((event) => event.kind === 'ignored')).toBe(true);
    expect(pipeline.openEpochRecords).toBeLessThanOrEqual(MAX_EPOCH_RECORDS);
  });

  it('ignores an epoch that repeats the previous time', () => {
    const pipeline = new NmeaFixPipeline(OLD_RECORDINGS);
    const first = [...pipeline.push(`${epoch('120000')[0]}\n`), ...pipeline.flushEpoch()];
    const second = [...pipeline.push(`${epoch('120000')[1]}\n`), ...pipeline.end()];
    expect(fixes(first)).toHaveLength(1);
    expect(reasons(second)).toEqual(['ignored 2: epoch repeats the time of the previous epoch']);
  });

  it('reports a rejected sentence with its line number', () => {
    const lines = [epoch('120000')[0], sentence('GPGGA,120000,3114.8770,N'), epoch('120000')[1]];
    const events = run(lines.join('\n'));
    expect(reasons(events)).toEqual(['rejected 2: GGA has 3 fields, expected 14']);
    expect(fixes(events)).toHaveLength(1);
  });
});

describe('NmeaFixPipeline fix filter', () => {
  it.each([
    ['RMC status V', { status: 'V' }, 'ignored 1: no fix: RMC status V'],
    ['quality 0', { quality: 0 }, 'ignored 1: no fix: quality 0'],
    ['HDOP above the maximum', { hdop: '5.1' }, 'rejected 1: HDOP 5.1 above maximum 5'],
    ['too few satellites', { satellites: '03' }, 'rejected 1: 3 satellites, minimum 4'],
  ])('drops an epoch with %s', (_name, options, reason) => {
    expect(reasons(run(epoch('120000', options).join('\n')))).toEqual([reason]);
  });

  it('accepts the limits themselves', () => {
    expect(fixes(run(epoch('120000', { hdop: '5.0', satellites: '04' }).join('\n')))).toHaveLength(1);
  });

  it('applies configured limits', () => {
    const input = epoch('120000', { hdop: '2.5', satellites: '06' }).join('\n');
    expect(reasons(run(input, { maxHdop: 2 }))).toEqual(['rejected 1: HDOP 2.5 above maximum 2']);
    expect(reasons(run(input, { minSatellites: 7 }))).toEqual(['rejected 1: 6 satellites, minimum 7']);
  });

  it('drops GNS with no fix on every constellation', () => {
    const line = sentence('GNGNS,074150.799,3114.8770,N,12135.2463,E,NNNN,00,,,0.0,,0000');
    expect(reasons(run(line))).toEqual(['ignored 1: no fix: GNS mode NNNN']);
  });

  it('drops RMC with mode N', () => {
    const line = sentence('GPRMC,120000,A,3114.8770,N,12135.2463,E,1.0,90.0,110922,,,N');
    expect(reasons(run(line))).toEqual(['ignored 1: no fix: RMC mode N']);
  });

  it('accepts RMC navigational status V (no status given)', () => {
    const line = sentence('GPRMC,120000,A,3114.8770,N,12135.2463,E,1.0,90.0,110922,,,A,V');
    expect(fixes(run(line))).toHaveLength(1);
  });

  it('drops a position with no fix indicator', () => {
    const line = sentence('GPGGA,120000,3114.8770,N,12135.2463,E,,08,1.2,10.0,M,8.3,M,,');
    expect(reasons(run(line))).toEqual(['rejected 1: no fix status (no RMC status, GGA quality or GNS mode)']);
  });
});

describe('NmeaFixPipeline dates', () => {
  const notBefore = new Date('2026-01-01T00:00:00Z');

  it('keeps a date from the not-before date on', () => {
    const [fix] = fixes(run(epoch('120000', { date: '020226' }).join('\n'), { notBefore }));
    expect(fix?.time?.toISOString()).toBe('2026-02-02T12:00:00.000Z');
  });

  it('moves a rolled-over date forward 1,024 weeks', () => {
    // 2006-06-18 + 1,024 weeks = 2026-02-01, between the not-before date and now.
    const [fix] = fixes(run(epoch('120000', { date: '180606' }).join('\n'), { notBefore }));
    expect(fix?.time?.toISOString()).toBe('2026-02-01T12:00:00.000Z');
  });

  it('nulls a date that no whole period brings into range', () => {
    // 2022-09-11 + 1,024 weeks lands in 2042, after the system clock.
    const [fix] = fixes(run(epoch('120000', { date: '110922' }).join('\n'), { notBefore }));
    expect(fix?.time).toBeNull();
  });

  it('keeps the leap second inside its day', () => {
    const [fix] = fixes(run(epoch('235960.5', { date: '311216' }).join('\n')));
    expect(fix?.time?.toISOString()).toBe('2016-12-31T23:59:59.999Z');
  });

  it.each([
    ['before, lands in range', '2006-06-18T00:00:00Z', '2026-02-01T00:00:00.000Z'],
    ['before by two periods', '1986-11-02T00:00:00Z', '2026-02-01T00:00:00.000Z'],
    ['exactly the not-before date', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z'],
    ['after the system clock', '2030-01-01T00:00:00Z', '2030-01-01T00:00:00.000Z'],
    ['before, lands after now', '2022-09-11T00:00:00Z', null],
  ])('applyWeekRolloverRule: %s', (_name, input, expected) => {
    const result = applyWeekRolloverRule(new Date(input), notBefore, NOW);
    expect(result ? result.toISOString() : null).toBe(expected);
  });

  it('uses whole 1,024-week periods', () => {
    expect(GPS_WEEK_ROLLOVER_MS).toBe(619_315_200_000);
  });
});

describe('NmeaFixPipeline input handling', () => {
  const input = [
    '************ program startup 16:40:33 09-25-2005 ************',
    ...epoch('120000'),
    '',
    `   ${epoch('120001')[0]}`,
    ...epoch('120001').slice(1),
    '$PGRME,2.3,M,3.3,M,4.0,M*2B',
    ...epoch('120002'),
  ];

  it('gives the same events for LF and CR LF', () => {
    expect(run(input.join('\r\n') + '\r\n')).toEqual(run(input.join('\n') + '\n'));
    expect(fixes(run(input.join('\n')))).toHaveLength(3);
  });

  it('gives the same events whatever the chunking', () => {
    const text = Buffer.from(input.join('\r\n') + '\r\n');
    const expected = run(text);
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;

    for (let attempt = 0; attempt < 200; attempt++) {
      const pipeline = new NmeaFixPipeline(OLD_RECORDINGS);
      const events: NmeaEvent[] = [];
      let offset = 0;
      while (offset < text.length) {
        const size = 1 + Math.floor(random() * 40);
        events.push(...pipeline.push(text.subarray(offset, offset + size)));
        offset += size;
      }
      events.push(...pipeline.end());
      expect(events).toEqual(expected);
    }
  });

  it('splits one byte at a time like the whole input', () => {
    const text = Buffer.from(input.join('\n'));
    const pipeline = new NmeaFixPipeline(OLD_RECORDINGS);
    const events: NmeaEvent[] = [];
    for (let i = 0; i < text.length; i++) events.push(...pipeline.push(text.subarray(i, i + 1)));
    events.push(...pipeline.end());
    expect(events).toEqual(run(text));
  });

  it('survives a hostile stream and loses no good epoch', () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37 + 11) % 256).filter((byte) => byte !== 0x0a));
    const hugeLine = Buffer.alloc(1024 * 1024, 'A');
    const good = (time: string) => Buffer.from(epoch(time).join('\r\n') + '\r\n');
    const stream = Buffer.concat([
      good('120000'),
      garbage.subarray(0, 300),
      Buffer.from('\n'),
      garbage,
      Buffer.from('\n'),
      good('120001'),
      Buffer.from('$GPRMC,120002,A,3114.8770,N,12135.2463,E,10.0,90.0,110922,,,A*00\r\n'),
      hugeLine,
      Buffer.from('\r\n'),
      good('120003'),
      Buffer.from(epoch('120004')[0]!.slice(0, 30)), // truncated at the end of the stream
    ]);
    const events = run(stream);

    expect(fixes(events).map((fix) => fix.time?.toISOString())).toEqual([
      '2022-09-11T12:00:00.000Z',
      '2022-09-11T12:00:01.000Z',
      '2022-09-11T12:00:03.000Z',
    ]);
    expect(reasons(events)).toEqual([
      'rejected 4: line contains non-printable or non-ASCII bytes',
      'rejected 5: line too long: 4080 bytes dropped (maximum 512)',
      expect.stringMatching(/^rejected 9: checksum mismatch: sentence has 00, computed [0-9A-F]{2}$/),
      'rejected 10: line too long: 1048576 bytes dropped (maximum 512)',
      'rejected 14: missing or malformed checksum (expected *HH at the end)',
    ]);
  });
});

const RECORDING_FOLDERS = [
  { name: 'product copy', folder: fileURLToPath(new URL('../../../../simulators/data/nmea/', import.meta.url)) },
  { name: 'shared data', folder: fileURLToPath(new URL('../../../../../shared/data/nmea/', import.meta.url)) },
];

function countKinds(events: NmeaEvent[]) {
  const counts = { fix: 0, rejected: 0, ignored: 0 };
  for (const event of events) counts[event.kind] += 1;
  return counts;
}

describe.each(RECORDING_FOLDERS)('NMEA recordings ($name)', ({ folder }) => {
  const available = existsSync(`${folder}drive-nmeaparser.log`);
  if (!available) console.warn(`skipping NMEA recordings in ${folder}: folder not present`);

  it.skipIf(!available)('drive log: 4,469 epochs, 4,420 usable', () => {
    const events = run(readFileSync(`${folder}drive-nmeaparser.log`));
    const epochEvents = events.filter((event) => event.kind === 'fix' || /HDOP|satellites/.test(event.reason));
    expect(epochEvents).toHaveLength(4469);
    expect(countKinds(events)).toEqual({ fix: 4420, rejected: 49, ignored: 4469 * 9 + 4 });
    expect(events.filter((event) => event.kind === 'rejected' && /satellites, minimum 4/.test(event.reason))).toHaveLength(10);
    expect(events.filter((event) => event.kind === 'rejected' && /^HDOP/.test(event.reason))).toHaveLength(39);
    expect(events.filter((event) => event.kind === 'fix' && event.fix.quality === 2).length).toBeGreaterThan(0);

    const all = fixes(events);
    expect(all[0]).toMatchObject({ time: new Date('2005-09-25T23:52:34.000Z'), talker: 'GP', quality: 1, satellites: 10, hdop: 0.8 });
    expect(all[0]?.lat).toBeCloseTo(39.43284, 5);
    expect(all[0]?.lon).toBeCloseTo(-119.76559, 5);
    expect(all.at(-1)?.time?.toISOString()).toBe('2005-09-26T02:56:32.000Z');
  });

  it.skipIf(!available)('drive log: default not-before date nulls every time', () => {
    const events = run(readFileSync(`${folder}drive-nmeaparser.log`), { notBefore: new Date('2026-12-04T00:00:00Z') });
    expect(fixes(events).every((fix) => fix.time === null)).toBe(true);
  });

  it.skipIf(!available)('BeiDou log: 5 no-fix epochs then 5 fixes', () => {
    const events = run(readFileSync(`${folder}beidou-bd.log`));
    expect(countKinds(events)).toEqual({ fix: 5, rejected: 10, ignored: 5 + 14 + 17 + 12 });
    expect(events.filter((event) => event.kind === 'rejected' && event.reason === 'GGA has 15 fields, expected 14')).toHaveLength(10);
    const all = fixes(events);
    expect(all[0]).toMatchObject({ talker: 'GN', quality: 1, satellites: 5, hdop: 1.3 });
    expect(all[0]?.time?.toISOString()).toBe('2015-02-25T07:41:55.799Z');
    expect(all[0]?.lat).toBeCloseTo(31.24795, 5);
    expect(all[0]?.lon).toBeCloseTo(121.58744, 5);
  });

  it.skipIf(!available)('Quectel log: fix flapping gives 23 fixes in 60 epochs', () => {
    const events = run(readFileSync(`${folder}quectel-eg25-g.log`));
    expect(countKinds(events)).toEqual({ fix: 23, rejected: 0, ignored: 37 + 6 + 313 + 146 });
    expect(events.filter((event) => event.kind === 'ignored' && event.reason === 'no fix: RMC status V')).toHaveLength(37);
    const times = fixes(events).map((fix) => fix.time?.toISOString().slice(11, 22));
    expect(times).toContain('19:15:25.98');
    expect(times).not.toContain('19:15:26.98');
    expect(fixes(events).every((fix) => fix.talker === 'GP' && fix.satellites! >= 4)).toBe(true);
  });
});
