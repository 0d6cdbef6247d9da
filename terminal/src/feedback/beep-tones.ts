import type { BeepPattern } from '@busfare/shared-protocol';

const SAMPLE_RATE_HZ = 16_000;

/** Tone steps of each buzzer pattern: frequency in Hz (0 for a pause) and duration in ms. */
export const BEEP_TONES: Readonly<Record<BeepPattern, ReadonlyArray<readonly [number, number]>>> = {
  ok: [[2000, 120]],
  concession: [[2000, 90], [0, 60], [2000, 90]],
  warning: [[1500, 90], [0, 60], [1500, 90], [0, 60], [1500, 90]],
  error: [[700, 450]],
};

/** Renders a beep pattern as a 16-bit mono PCM WAV file at 16 kHz. */
export function beepWav(pattern: BeepPattern): Buffer {
  const samples: number[] = [];
  for (const [frequencyHz, durationMs] of BEEP_TONES[pattern]) {
    const count = Math.round((SAMPLE_RATE_HZ * durationMs) / 1000);
    for (let index = 0; index < count; index += 1) {
      // A 5 ms fade at both ends keeps the speaker from clicking.
      const fade = Math.min(1, index / 80, (count - index) / 80);
      const value = frequencyHz === 0 ? 0 : Math.sin((2 * Math.PI * frequencyHz * index) / SAMPLE_RATE_HZ) * 0.6 * fade;
      samples.push(Math.round(value * 32767));
    }
  }
  return pcmWav(Int16Array.from(samples), SAMPLE_RATE_HZ);
}

function pcmWav(samples: Int16Array, sampleRateHz: number): Buffer {
  const dataBytes = samples.length * 2;
  const wav = Buffer.alloc(44 + dataBytes);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + dataBytes, 4);
  wav.write('WAVE', 8, 'ascii');
  wav.write('fmt ', 12, 'ascii');
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(sampleRateHz, 24);
  wav.writeUInt32LE(sampleRateHz * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(dataBytes, 40);
  for (let index = 0; index < samples.length; index += 1) wav.writeInt16LE(samples[index]!, 44 + index * 2);
  return wav;
}
