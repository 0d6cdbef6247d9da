import { describe, expect, it } from 'vitest';
import { PcscUnavailableError } from '../readers/pcsc/nfc-pcsc-module.js';
import { pcscUnavailableText, pcscdDownText } from './cli-options.js';

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

describe('pcscdDownText', () => {
  it('says how to start pcscd in Chinese', () => {
    expect(pcscdDownText('/run/pcscd/pcscd.comm', 'zh')).toBe(
      '读卡服务（pcscd）未运行：/run/pcscd/pcscd.comm\n请启动 pcscd 服务（systemctl start pcscd.socket；没有 systemd 时以 root 身份运行 pcscd）。Debian 上若未安装，先运行 apt-get install pcscd',
    );
  });

  it('says how to start pcscd in English', () => {
    expect(pcscdDownText('/run/pcscd/pcscd.comm', 'en')).toBe(
      'Card reader service (pcscd) is not running: /run/pcscd/pcscd.comm\nStart the pcscd service (systemctl start pcscd.socket, or run pcscd as root where there is no systemd). On Debian, install it first if missing: apt-get install pcscd.',
    );
  });
});
