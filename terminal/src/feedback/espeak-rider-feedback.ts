import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Language } from '@busfare/shared-protocol';
import type { Logger } from '../logger.js';
import { systemClock } from '../ports/clock.js';
import type { RiderFeedbackMessage } from '../ports/rider-feedback.js';
import { LogLimiter } from '../uplink/log-limiter.js';
import { generatePromptAudio, type PromptAudioFiles } from './prompt-audio.js';
import { RecordingRiderFeedback } from './recording-rider-feedback.js';

const execFileAsync = promisify(execFile);

export interface EspeakRiderFeedbackOptions {
  /** Folder for the generated WAV files; it survives restarts so prompts are generated once. */
  cacheDir: string;
  logger: Logger;
  /** Languages spoken after the beep, in order (default Chinese only). */
  languages?: readonly Language[];
  espeakPath?: string;
  /** ALSA player (default `aplay` from alsa-utils). */
  playerPath?: string;
  /** The ALSA device folder whose presence means a sound card exists. */
  soundDevicePath?: string;
}

export type AudioState = 'playing' | 'no-sound-device' | 'no-player' | 'no-prompts';

/**
 * Rider feedback with sound: a beep pattern and a voice prompt per tap, generated with espeak-ng
 * and played with aplay. Without a sound device, player or prompt files it only records what
 * the rider would have seen, like RecordingRiderFeedback.
 */
export class EspeakRiderFeedback extends RecordingRiderFeedback {
  private files?: PromptAudioFiles;
  private playing?: ChildProcess;
  private state: AudioState = 'no-prompts';
  private readonly languages: readonly Language[];
  private readonly limiter: LogLimiter;

  constructor(private readonly options: EspeakRiderFeedbackOptions) {
    super();
    this.languages = options.languages ?? ['zh'];
    this.limiter = new LogLimiter(options.logger, systemClock);
  }

  get audioState(): AudioState {
    return this.state;
  }

  /** Generates missing prompt files and checks the player; resolves with the resulting audio state. */
  async prepare(): Promise<AudioState> {
    const { logger } = this.options;
    try {
      this.files = await generatePromptAudio({ cacheDir: this.options.cacheDir, languages: this.languages, espeakPath: this.options.espeakPath });
      logger.info({ cacheDir: this.options.cacheDir, generated: this.files.generated }, 'voice prompts ready');
    } catch (error) {
      logger.warn({ err: error, cacheDir: this.options.cacheDir }, 'failed to generate voice prompts; rider feedback is display only');
      this.state = 'no-prompts';
      return this.state;
    }
    const soundDevice = this.options.soundDevicePath ?? '/dev/snd';
    if (!existsSync(soundDevice)) {
      logger.info({ soundDevice }, 'no sound device; rider feedback is display only');
      this.state = 'no-sound-device';
      return this.state;
    }
    try {
      await execFileAsync(this.options.playerPath ?? 'aplay', ['--version'], { timeout: 5_000 });
    } catch (error) {
      logger.warn({ err: error, player: this.options.playerPath ?? 'aplay' }, 'audio player not found; install alsa-utils for voice prompts');
      this.state = 'no-player';
      return this.state;
    }
    this.state = 'playing';
    return this.state;
  }

  override show(message: RiderFeedbackMessage): void {
    super.show(message);
    const display = this.lastDisplay;
    if (this.state !== 'playing' || !this.files || !display) return;
    const voiceFiles = this.files.voices.get(display.voice) ?? {};
    const paths = [this.files.beeps[display.beep], ...this.languages.map((language) => voiceFiles[language]).filter((path): path is string => path !== undefined)];
    this.play(paths);
  }

  /** Stops any prompt still playing. */
  close(): void {
    this.playing?.kill();
    this.playing = undefined;
  }

  private play(paths: string[]): void {
    // A new tap cuts the previous prompt short, so the rider hears the prompt of their own card.
    this.playing?.kill();
    const child = spawn(this.options.playerPath ?? 'aplay', ['-q', ...paths], { stdio: 'ignore' });
    this.playing = child;
    child.on('error', (error) => this.limiter.warn('play-failed', { err: error }, 'failed to play a voice prompt'));
    child.on('exit', () => {
      if (this.playing === child) this.playing = undefined;
    });
  }
}
