import { describe, expect, it } from 'vitest';
import { ReaderIoError } from '../../ports/card-reader.js';
import { identifyTarget, historicalBytes } from './card-identity.js';
import { parseTypeATargets } from './pn532-commands.js';
import { ACK_FRAME, NACK_FRAME, TFI_PN532_TO_HOST, encodeErrorFrame, encodeFrame } from './pn532-frame.js';
import { Pn532Link } from './pn532-link.js';

const hex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

/** Builds a link whose port records what the host wrote and feeds back the frames `reply` returns for each write. */
function scriptedLink(reply: (written: Uint8Array, count: number) => Uint8Array[], responseTimeoutMs = 100) {
  const written: Uint8Array[] = [];
  const link: Pn532Link = new Pn532Link(
    {
      write: (bytes) => {
        written.push(bytes.slice());
        for (const chunk of reply(bytes, written.length)) setImmediate(() => link.receive(chunk));
      },
    },
    { ackTimeoutMs: 50, responseTimeoutMs },
  );
  return { link, written };
}

describe('Pn532Link', () => {
  it('decodes ACK and response in one read', async () => {
    const { link } = scriptedLink(() => [Uint8Array.from([...ACK_FRAME, ...encodeFrame(TFI_PN532_TO_HOST, hex('03 32 01 06 07'))])]);
    expect(await link.command(0x02)).toEqual(hex('32 01 06 07'));
  });

  it('resends a command after NACK', async () => {
    const { link, written } = scriptedLink((_, count) => (count === 1 ? [NACK_FRAME] : [ACK_FRAME, encodeFrame(TFI_PN532_TO_HOST, hex('15'))]));
    expect(await link.command(0x14, hex('01 14 01'))).toEqual(new Uint8Array(0));
    expect(written).toHaveLength(2);
    expect(written[1]).toEqual(written[0]);
  });

  it('requests a damaged response again', async () => {
    const damaged = encodeFrame(TFI_PN532_TO_HOST, hex('41 00 90 00'));
    const dcsIndex = damaged.length - 2;
    damaged[dcsIndex] = (damaged[dcsIndex] ?? 0) ^ 0xff;
    const { link, written } = scriptedLink((bytes, count) => {
      if (count === 1) return [ACK_FRAME, damaged];
      expect(bytes).toEqual(NACK_FRAME);
      return [encodeFrame(TFI_PN532_TO_HOST, hex('41 00 90 00'))];
    });
    expect(await link.command(0x40, hex('01 00 B0 00 00 02'))).toEqual(hex('00 90 00'));
    expect(written).toHaveLength(2);
  });

  it('sends no NACK for noise before the response', async () => {
    // The module is still working when noise with a start code arrives. A module that got a NACK
    // now would resend its previous response, here that of an earlier InDataExchange.
    const previous = encodeFrame(TFI_PN532_TO_HOST, hex('41 00 11 22 90 00'));
    const current = encodeFrame(TFI_PN532_TO_HOST, hex('41 00 33 44 90 00'));
    const written: Uint8Array[] = [];
    const link: Pn532Link = new Pn532Link(
      {
        write: (bytes) => {
          written.push(bytes.slice());
          if (Buffer.from(bytes).equals(Buffer.from(NACK_FRAME))) {
            setImmediate(() => link.receive(previous));
            return;
          }
          setImmediate(() => link.receive(Uint8Array.from([...ACK_FRAME, ...hex('00 FF 00 00'), ...hex('00 FF 03 FD 12 34 56 00')])));
          setTimeout(() => link.receive(current), 30);
        },
      },
      { ackTimeoutMs: 50, responseTimeoutMs: 200 },
    );
    expect(await link.command(0x40, hex('01 80 54 01 00 0F'))).toEqual(hex('00 33 44 90 00'));
    expect(written).toHaveLength(1);
  });

  it('skips a late foreign response', async () => {
    const { link } = scriptedLink(() => [ACK_FRAME, encodeFrame(TFI_PN532_TO_HOST, hex('4B 00')), encodeFrame(TFI_PN532_TO_HOST, hex('41 00 90 00'))]);
    expect(await link.command(0x40, hex('01 00'))).toEqual(hex('00 90 00'));
  });

  it('raises ReaderIoError on module silence', async () => {
    await expect(scriptedLink(() => [encodeErrorFrame()]).link.command(0x40)).rejects.toThrow(/syntax error/);
    await expect(scriptedLink(() => []).link.command(0x40)).rejects.toThrow(ReaderIoError);
    const silent = scriptedLink((_, count) => (count === 1 ? [ACK_FRAME] : []), 30);
    await expect(silent.link.command(0x4a, hex('01 00'))).rejects.toThrow(/no response to command 4A within 30 ms/);
    expect(silent.written.at(-1)).toEqual(ACK_FRAME);
  });

  it('fails commands after close', async () => {
    const { link } = scriptedLink(() => []);
    link.close('port closed');
    await expect(link.command(0x02)).rejects.toThrow('port closed');
  });
});

describe('InListPassiveTarget targets', () => {
  it('maps an ISO-DEP target to an ATR', () => {
    const [target] = parseTypeATargets(hex('01 01 0004 20 04 08123456 0A 78 00 70 00 4A 43 4F 50 33'));
    expect(target).toMatchObject({ tg: 1, sak: 0x20, uid: hex('08123456'), ats: hex('0A 78 00 70 00 4A 43 4F 50 33') });
    expect(historicalBytes(target!.ats!)).toEqual(hex('4A 43 4F 50 33'));
    const identity = identifyTarget(target!);
    expect(identity.protocol).toBe('iso14443-4');
    if (identity.protocol === undefined) throw new Error(identity.reason);
    // 3B 85 80 01 + historical + TCK (XOR of 85 80 01 4A 43 4F 50 33).
    expect(Buffer.from(identity.atr).toString('hex').toUpperCase()).toBe('3B8580014A434F503321');
  });

  it('classifies MIFARE Classic 1K by SAK', () => {
    const [target] = parseTypeATargets(hex('01 01 0004 08 04 5A000001'));
    const identity = identifyTarget(target!);
    expect(identity.protocol).toBe('mifare-classic');
    if (identity.protocol === undefined) throw new Error(identity.reason);
    expect(Buffer.from(identity.atr).toString('hex').toUpperCase()).toBe('3B8F8001804F0CA000000306030001000000006A');
  });

  it('rejects unknown SAK and truncation', () => {
    expect(identifyTarget(parseTypeATargets(hex('01 01 0044 00 07 04112233445566'))[0]!)).toMatchObject({ protocol: undefined });
    expect(() => parseTypeATargets(hex('01 01 0004 08 04 5A00'))).toThrow(/UID/);
    expect(parseTypeATargets(hex('00'))).toEqual([]);
  });
});
