import { describe, expect, it } from 'vitest';
import { PcscUnavailableError } from '../readers/pcsc/nfc-pcsc-module.js';
import { pcscUnavailableText } from './cli-options.js';

describe('pcscUnavailableText', () => {
  const error = new PcscUnavailableError('cannot load nfc-pcsc', { cause: new Error('libpcsclite.so.1: cannot open shared object file') });

  it('words the failure in Chinese', () => {
    expect(pcscUnavailableText(error, 'zh')).toBe(
      '无法加载 PC/SC 读卡器所需的 nfc-pcsc：libpcsclite.so.1: cannot open shared object file。请安装 libpcsclite-dev（Debian：apt-get install libpcsclite-dev pcscd），然后运行 "npm rebuild @pokusew/pcsclite" 或重新安装 nfc-pcsc',
    );
  });

  it('words the failure in English', () => {
    expect(pcscUnavailableText(error, 'en')).toBe(
      'cannot load nfc-pcsc for the PC/SC reader: libpcsclite.so.1: cannot open shared object file. Install libpcsclite-dev (Debian: apt-get install libpcsclite-dev pcscd), then run "npm rebuild @pokusew/pcsclite" or reinstall nfc-pcsc.',
    );
  });
});
