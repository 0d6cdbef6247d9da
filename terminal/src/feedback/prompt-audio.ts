import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RIDER_PROMPTS, type BeepPattern, type Language } from '@busfare/shared-protocol';
import { beepWav } from './beep-tones.js';

const execFileAsync = promisify(execFile);

/** espeak-ng voices per catalogue language; `cmn` is espeak-ng's Mandarin voice. */
export const ESPEAK_VOICES: Readonly<Record<Language, string>> = { zh: 'cmn', en: 'en' };

const BEEP_PATTERNS: readonly BeepPattern[] = ['ok', 'concession', 'warning', 'error'];

export interface PromptAudioOptions {
  cacheDir: string;
  languages?: readonly Language[];
  /** espeak-ng executable (default `espeak-ng` on the PATH). */
  espeakPath?: string;
}

export interface PromptAudioFiles {
  /** WAV file per voice id and language. */
  voices: Map<string, Partial<Record<Language, string>>>;
  beeps: Record<BeepPattern, string>;
  generated: number;
}

/**
 * The text spoken for each voice id. Several prompts share a voice id (a read error and "tap
 * again" both play "please tap again"), so the first prompt in the catalogue with that id is spoken.
 */
export function voiceTexts(): Map<string, Record<Language, string>> {
  const texts = new Map<string, Record<Language, string>>();
  for (const prompt of Object.values(RIDER_PROMPTS)) {
    if (!texts.has(prompt.voice)) texts.set(prompt.voice, { zh: prompt.zh, en: prompt.en });
  }
  return texts;
}

/** Names the cache file of one spoken text after a hash of voice and text, so edited text is regenerated. */
export function voiceFileName(voice: string, language: Language, text: string): string {
  const hash = createHash('sha256').update(`${ESPEAK_VOICES[language]}\n${text}`).digest('hex').slice(0, 12);
  return `${voice}.${language}.${hash}.wav`;
}

/**
 * Writes the beep tones and, with espeak-ng, one WAV file per voice id and language into the cache
 * folder; files already there are kept. Rejects when espeak-ng is missing or fails.
 */
export async function generatePromptAudio(options: PromptAudioOptions): Promise<PromptAudioFiles> {
  const languages = options.languages ?? ['zh'];
  const espeak = options.espeakPath ?? 'espeak-ng';
  mkdirSync(options.cacheDir, { recursive: true });
  let generated = 0;

  const beeps = {} as Record<BeepPattern, string>;
  for (const pattern of BEEP_PATTERNS) {
    const path = join(options.cacheDir, `beep-${pattern}.wav`);
    const wav = beepWav(pattern);
    if (!existsSync(path) || !readFileSync(path).equals(wav)) {
      writeFileAtomic(path, wav);
      generated += 1;
    }
    beeps[pattern] = path;
  }

  const voices = new Map<string, Partial<Record<Language, string>>>();
  for (const [voice, texts] of voiceTexts()) {
    const files: Partial<Record<Language, string>> = {};
    for (const language of languages) {
      const path = join(options.cacheDir, voiceFileName(voice, language, texts[language]));
      if (!nonEmptyFile(path)) {
        const partPath = `${path}.part`;
        await execFileAsync(espeak, ['-v', ESPEAK_VOICES[language], '-w', partPath, texts[language]], { timeout: 30_000 });
        if (!nonEmptyFile(partPath)) throw new Error(`${espeak} wrote no audio for voice prompt ${voice} (${language}) to ${partPath}`);
        renameSync(partPath, path);
        generated += 1;
      }
      files[language] = path;
    }
    voices.set(voice, files);
  }
  return { voices, beeps, generated };
}

function nonEmptyFile(path: string): boolean {
  return existsSync(path) && statSync(path).size > 44;
}

function writeFileAtomic(path: string, data: Buffer): void {
  writeFileSync(`${path}.part`, data);
  renameSync(`${path}.part`, path);
}
