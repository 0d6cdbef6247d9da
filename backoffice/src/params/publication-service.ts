import type { MqttClient } from 'mqtt';
import type { Logger } from '../logger.js';
import type { ParameterRepository, StoredPublication } from './parameter-repository.js';
import { publishParameterSet } from './publisher.js';

export interface PublicationServiceOptions {
  repository: ParameterRepository;
  client: MqttClient;
  logger: Logger;
  /** Milliseconds between looks for sets that the CLI or the console stored; 0 turns polling off. */
  pollIntervalMs?: number;
}

/**
 * Publishes the signed sets of the publications outbox. At start it publishes again every set a
 * broker must retain, because the embedded broker keeps retained messages in memory only. Then it
 * publishes each set authoring stores and marks it published. Publications run one at a time.
 */
export class ParameterPublicationService {
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private chunkTopics = 0;

  constructor(private readonly options: PublicationServiceOptions) {}

  async start(): Promise<void> {
    const { repository, logger } = this.options;
    this.chunkTopics = repository.maxChunkCount();
    await this.enqueue(async () => {
      for (const publication of repository.retained()) {
        if (publication.publishedAt === undefined) continue;
        await this.publishOne(publication);
      }
    });
    await this.publishPending();
    const interval = this.options.pollIntervalMs ?? 2_000;
    if (interval > 0) {
      this.timer = setInterval(() => {
        this.publishPending().catch((error: unknown) => logger.error({ err: error }, 'failed to publish parameter sets; retrying at the next poll'));
      }, interval);
      this.timer.unref();
    }
  }

  /** Publishes every stored set not yet published, oldest first. */
  publishPending(): Promise<void> {
    return this.enqueue(async () => {
      for (const publication of this.options.repository.unpublished()) {
        await this.publishOne(publication);
        this.options.repository.markPublished(publication.set, new Date());
        this.options.logger.info({ kind: publication.set.kind, version: publication.set.version, effectiveFrom: publication.set.effectiveFrom }, 'parameter set published');
      }
    });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async publishOne(publication: StoredPublication): Promise<void> {
    const chunks = publication.chunks ?? [];
    await publishParameterSet(this.options.client, publication.set, { chunks, previousChunkCount: this.chunkTopics });
    if (publication.set.kind === 'blacklist' && (publication.set.body as { mode?: unknown }).mode === 'full') this.chunkTopics = chunks.length;
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
