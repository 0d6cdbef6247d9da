import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { beepWav } from './beep-tones.js';
import { EspeakRiderFeedback } from './espeak-rider-feedback.js';
import { generatePromptAudio, voiceTexts } from './prompt-audio.js';
import { RecordingRiderFeedback } from './recording-rider-feedback.js';
import { composeRiderDisplay } from './rider-display.js';

const logger = pino({ level: 'silent' });
const hasEspeak = existsSync('/usr/bin/espeak-ng');

describe('composeRiderDisplay', () => {
  it('shows fare and balance in both languages', () => {
    const display = composeRiderDisplay({ promptId: 'fare-paid', cardType: 'ordinary', amountFen: 200, balanceFen: 1850 });
    expect(display.lines.zh).toEqual(['刷卡成功', '扣款 2.00 元', '余额 18.50 元']);
    expect(display.lines.en).toEqual(['Fare paid', 'Fare ¥2.00', 'Balance ¥18.50']);
    expect(display.voice).toBe('v01-success');
    expect(display.beep).toBe('ok');
  });

  it('names a concession card once', () => {
    expect(composeRiderDisplay({ promptId: 'card-type-student', cardType: 'student', amountFen: 100 }).lines.zh).toEqual(['学生卡', '扣款 1.00 元']);
    expect(composeRiderDisplay({ promptId: 'low-balance', cardType: 'senior', amountFen: 0, balanceFen: 300 }).lines.zh).toEqual(['请充值', '老年卡', '扣款 0.00 元', '余额 3.00 元']);
  });

  it('gives refusals the error beep', () => {
    const display = composeRiderDisplay({ promptId: 'insufficient-balance', balanceFen: 50 });
    expect(display.lines.zh).toEqual(['余额不足', '余额 0.50 元']);
    expect(display.beep).toBe('error');
    expect(composeRiderDisplay({ promptId: 'repeat-tap' }).lines.en).toEqual(['Card already tapped']);
  });
});

describe('RecordingRiderFeedback', () => {
  it('keeps a bounded history', () => {
    const feedback = new RecordingRiderFeedback(2);
    const seen: string[] = [];
    feedback.onDisplay((display) => seen.push(display.promptId));
    feedback.show({ promptId: 'fare-paid' });
    feedback.show({ promptId: 'invalid-card' });
    feedback.show({ promptId: 'tap-again' });
    expect(feedback.shown).toBe(3);
    expect(feedback.history.map((display) => display.promptId)).toEqual(['invalid-card', 'tap-again']);
    expect(feedback.last).toEqual({ promptId: 'tap-again' });
    expect(seen).toEqual(['fare-paid', 'invalid-card', 'tap-again']);
  });
});

describe('beepWav', () => {
  it('writes a PCM WAV header', () => {
    const wav = beepWav('concession');
    expect(wav.subarray(0, 4).toString('ascii')).toBe('RIFF');
    expect(wav.subarray(8, 12).toString('ascii')).toBe('WAVE');
    expect(wav.readUInt32LE(40)).toBe(wav.length - 44);
    expect(wav.length).toBeGreaterThan(44 + 2 * 16_000 * 0.2);
  });
});

const cacheDirs: string[] = [];

afterEach(() => {
  for (const dir of cacheDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function promptCacheDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'busfare-prompts-'));
  cacheDirs.push(dir);
  return dir;
}

describe.skipIf(!hasEspeak)('prompt audio with espeak-ng', () => {
  it('generates one WAV file per voice prompt', async () => {
    const cacheDir = promptCacheDir();
    const files = await generatePromptAudio({ cacheDir, languages: ['zh', 'en'] });
    expect(files.voices.size).toBe(voiceTexts().size);
    const insufficient = files.voices.get('v22-insufficient')!;
    for (const path of [insufficient.zh!, insufficient.en!, files.beeps.error]) {
      expect(statSync(path).size).toBeGreaterThan(1000);
      expect(readFileSync(path).subarray(0, 4).toString('ascii')).toBe('RIFF');
    }
    expect((await generatePromptAudio({ cacheDir, languages: ['zh', 'en'] })).generated).toBe(0);
  });

  it('falls back to recording without a sound device', async () => {
    const feedback = new EspeakRiderFeedback({ cacheDir: promptCacheDir(), logger, soundDevicePath: join(tmpdir(), 'no-such-sound-device') });
    expect(await feedback.prepare()).toBe('no-sound-device');
    feedback.show({ promptId: 'card-type-senior', cardType: 'senior', amountFen: 0 });
    expect(feedback.lastDisplay?.lines.zh[0]).toBe('老年卡');
    feedback.close();
  });
});

describe('EspeakRiderFeedback', () => {
  it('records only when espeak-ng is missing', async () => {
    const feedback = new EspeakRiderFeedback({ cacheDir: promptCacheDir(), logger, espeakPath: join(tmpdir(), 'no-such-espeak') });
    expect(await feedback.prepare()).toBe('no-prompts');
    feedback.show({ promptId: 'invalid-card' });
    expect(feedback.shown).toBe(1);
    feedback.close();
  });
});
