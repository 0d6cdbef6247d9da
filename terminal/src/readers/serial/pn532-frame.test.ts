import { describe, expect, it } from 'vitest';
import { ACK_FRAME, MAX_FRAME_LENGTH, NACK_FRAME, Pn532FrameDecoder, TFI_HOST_TO_PN532, TFI_PN532_TO_HOST, encodeErrorFrame, encodeFrame } from './pn532-frame.js';

const hex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

describe('PN532 frame encoding', () => {
  it('encodes SAMConfiguration checksums', () => {
    // LEN 05, LCS FB; D4+14+01+14+01 = FE, so DCS = 02.
    expect(encodeFrame(TFI_HOST_TO_PN532, hex('14 01 14 01'))).toEqual(hex('00 00 FF 05 FB D4 14 01 14 01 02 00'));
  });

  it('encodes the error frame', () => {
    expect(encodeErrorFrame()).toEqual(hex('00 00 FF 01 FF 7F 81 00'));
  });

  it('encodes GetFirmwareVersion', () => {
    expect(encodeFrame(TFI_HOST_TO_PN532, hex('02'))).toEqual(hex('00 00 FF 02 FE D4 02 2A 00'));
  });

  it('encodes extended frames up to the maximum', () => {
    const data = new Uint8Array(260).fill(0x11);
    const frame = encodeFrame(TFI_PN532_TO_HOST, data);
    // LEN = 261 = 01 05, LCS = -(01 + 05) = FA.
    expect(frame.subarray(0, 8)).toEqual(hex('00 00 FF FF FF 01 05 FA'));
    const [decoded] = new Pn532FrameDecoder().push(frame);
    expect(decoded).toEqual({ kind: 'info', tfi: TFI_PN532_TO_HOST, data });
    expect(() => encodeFrame(TFI_HOST_TO_PN532, new Uint8Array(MAX_FRAME_LENGTH))).toThrow(/at most 264/);
  });
});

describe('Pn532FrameDecoder', () => {
  it('decodes every frame kind', () => {
    const decoder = new Pn532FrameDecoder();
    const response = encodeFrame(TFI_PN532_TO_HOST, hex('41 00 90 00'));
    expect(decoder.push(Uint8Array.from([...ACK_FRAME, ...NACK_FRAME, ...encodeErrorFrame(), ...response]))).toEqual([
      { kind: 'ack' },
      { kind: 'nack' },
      { kind: 'error' },
      { kind: 'info', tfi: 0xd5, data: hex('41 00 90 00') },
    ]);
  });

  it('joins frames split across reads', () => {
    const frame = Uint8Array.from([...ACK_FRAME, ...encodeFrame(TFI_PN532_TO_HOST, hex('4B 01 01 00 04 08 04 5A 00 00 01'))]);
    for (let cut = 1; cut < frame.length; cut += 1) {
      const decoder = new Pn532FrameDecoder();
      const frames = [...decoder.push(frame.subarray(0, cut)), ...decoder.push(frame.subarray(cut))];
      expect(frames.map((f) => f.kind)).toEqual(['ack', 'info']);
    }
    const decoder = new Pn532FrameDecoder();
    const frames = [...frame].flatMap((byte) => decoder.push(Uint8Array.of(byte)));
    expect(frames.map((f) => f.kind)).toEqual(['ack', 'info']);
  });

  it('skips garbage before a start code', () => {
    const decoder = new Pn532FrameDecoder();
    const frames = decoder.push(Uint8Array.from([0x55, 0x55, 0x13, 0x37, 0xff, 0xaa, ...encodeFrame(TFI_PN532_TO_HOST, hex('15'))]));
    expect(frames).toEqual([{ kind: 'info', tfi: 0xd5, data: hex('15') }]);
    expect(decoder.skippedBytes).toBe(6);
  });

  it('recovers from a bad length checksum', () => {
    const decoder = new Pn532FrameDecoder();
    const frames = decoder.push(Uint8Array.from([...hex('00 00 FF 05 FA D4 14 01 14 01 02 00'), ...ACK_FRAME]));
    expect(frames[0]).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/length checksum/) });
    expect(frames.at(-1)).toEqual({ kind: 'ack' });
  });

  it('reports a bad data checksum', () => {
    const decoder = new Pn532FrameDecoder();
    const frames = decoder.push(hex('00 00 FF 05 FB D5 15 01 14 01 02 00'));
    expect(frames[0]).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/data checksum/), tfi: 0xd5, code: 0x15 });
    const [lengthFailure] = new Pn532FrameDecoder().push(hex('00 00 FF 05 FA D5 15 01 14 01 02 00'));
    expect(lengthFailure).toEqual({ kind: 'invalid', reason: expect.stringMatching(/length checksum/) });
  });

  it('rejects an oversize extended length', () => {
    // LENM 01 LENL 20 (288 bytes), LCS DF: a consistent but oversize length.
    const decoder = new Pn532FrameDecoder();
    const frames = decoder.push(Uint8Array.from([...hex('00 00 FF FF FF 01 20 DF D5'), ...ACK_FRAME]));
    expect(frames[0]).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/exceeds 265/) });
    expect(frames.at(-1)).toEqual({ kind: 'ack' });
  });

  it('drops a partial frame on reset', () => {
    const decoder = new Pn532FrameDecoder();
    expect(decoder.push(hex('00 00 FF 05 FB D5 15'))).toEqual([]);
    decoder.reset();
    expect(decoder.push(ACK_FRAME)).toEqual([{ kind: 'ack' }]);
  });
});
