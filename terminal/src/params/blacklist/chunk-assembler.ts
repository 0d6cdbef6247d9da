import { createHash } from 'node:crypto';
import type { PackedListManifest } from '@busfare/shared-protocol';

/** Chunks kept while no manifest asks for them, at most this many bytes, oldest dropped first. */
const MAX_LOOSE_CHUNK_BYTES = 64 * 1024 * 1024;

export type ChunkOutcome<Manifested> =
  | { kind: 'complete'; manifested: Manifested; chunks: Uint8Array[] }
  | { kind: 'waiting'; missing: number }
  | { kind: 'mismatch'; problem: string };

/**
 * Collects the binary chunks of a packed blacklist from their retained topics. Chunks and their
 * manifest may arrive in any order, so a chunk that no waiting manifest names is kept by its
 * SHA-256 until one does. Only the newest manifest waits; a newer one replaces it.
 */
export class ChunkAssembler<Manifested> {
  private waiting: { manifested: Manifested; manifest: PackedListManifest; chunks: (Uint8Array | undefined)[] } | undefined;
  private readonly loose = new Map<string, Uint8Array>();
  private looseBytes = 0;

  /** Starts waiting for the chunks of `manifest`; returns them at once when all are here. */
  expect(manifested: Manifested, manifest: PackedListManifest): ChunkOutcome<Manifested> {
    const chunks = manifest.chunks.map((chunk) => this.loose.get(chunk.sha256));
    this.waiting = { manifested, manifest, chunks };
    return this.progress();
  }

  /** Takes chunk `index` from its topic; an empty payload clears a retained topic and is ignored. */
  add(index: number, payload: Uint8Array): ChunkOutcome<Manifested> | undefined {
    if (payload.length === 0) return undefined;
    const sha256 = createHash('sha256').update(payload).digest('hex');
    const waiting = this.waiting;
    if (waiting) {
      const expected = waiting.manifest.chunks[index];
      if (expected && expected.sha256 === sha256) {
        waiting.chunks[index] = payload;
        return this.progress();
      }
      if (expected) {
        this.keepLoose(sha256, payload);
        return { kind: 'mismatch', problem: `packed.chunks.${index}: received ${payload.length} bytes with SHA-256 ${sha256}, the manifest of version ${this.versionOf()} expects ${expected.sha256}; still waiting for the right chunk` };
      }
    }
    this.keepLoose(sha256, payload);
    return undefined;
  }

  /** Whether a manifest is waiting for chunks. */
  isWaiting(): boolean {
    return this.waiting !== undefined;
  }

  private progress(): ChunkOutcome<Manifested> {
    const waiting = this.waiting!;
    const missing = waiting.chunks.filter((chunk) => chunk === undefined).length;
    if (missing > 0) return { kind: 'waiting', missing };
    this.waiting = undefined;
    for (const chunk of waiting.manifest.chunks) this.dropLoose(chunk.sha256);
    return { kind: 'complete', manifested: waiting.manifested, chunks: waiting.chunks as Uint8Array[] };
  }

  private versionOf(): string {
    const manifested = this.waiting?.manifested as { set?: { version?: number } } | undefined;
    return String(manifested?.set?.version ?? '?');
  }

  private keepLoose(sha256: string, payload: Uint8Array): void {
    if (this.loose.has(sha256) || payload.length > MAX_LOOSE_CHUNK_BYTES) return;
    this.loose.set(sha256, payload);
    this.looseBytes += payload.length;
    for (const [oldest, chunk] of this.loose) {
      if (this.looseBytes <= MAX_LOOSE_CHUNK_BYTES) break;
      this.loose.delete(oldest);
      this.looseBytes -= chunk.length;
    }
  }

  private dropLoose(sha256: string): void {
    const chunk = this.loose.get(sha256);
    if (!chunk) return;
    this.loose.delete(sha256);
    this.looseBytes -= chunk.length;
  }
}
