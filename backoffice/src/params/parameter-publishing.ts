import type { KeyObject } from 'node:crypto';
import { canonicalJson, sha256Hex, type ParameterSet } from '@busfare/shared-protocol';
import type { MqttClient } from 'mqtt';
import type { Logger } from '../logger.js';
import { ParameterAuthoring, type SetRequest } from './authoring.js';
import { ParameterRepository } from './parameter-repository.js';
import { ParameterPublicationService } from './publication-service.js';

export interface ParameterPublishingOptions {
  /** The clearing database, which holds the publications outbox. */
  databasePath: string;
  client: MqttClient;
  logger: Logger;
  /** Without a key the back office still publishes stored sets but cannot author new ones. */
  signingKey?: KeyObject;
  pollIntervalMs?: number;
}

/** The parameter part of a running back office. */
export interface ParameterPublishing {
  repository: ParameterRepository;
  /** Present when a signing key is configured. */
  authoring: ParameterAuthoring | undefined;
  /** Checks, signs, stores and publishes a set; resolves once the broker has it. */
  publish(request: SetRequest): Promise<ParameterSet>;
  stop(): void;
}

/** Opens the publications outbox, publishes the retained sets again and starts polling it. */
export async function startParameterPublishing(options: ParameterPublishingOptions): Promise<ParameterPublishing> {
  const repository = new ParameterRepository(options.databasePath);
  const service = new ParameterPublicationService({ repository, client: options.client, logger: options.logger, ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }) });
  try {
    await service.start();
  } catch (error) {
    service.stop();
    repository.close();
    throw error;
  }
  const authoring = options.signingKey ? new ParameterAuthoring({ repository, signingKey: options.signingKey }) : undefined;
  if (!authoring) options.logger.warn('no parameter signing key configured: stored sets are published, but new ones cannot be signed');
  return {
    repository,
    authoring,
    async publish(request) {
      if (!authoring) throw new Error('cannot sign the parameter set: no signing key; create one with "busfare-backoffice params keygen" and set parameterSigningKey in the config');
      // Publishing the same version with the same body again (a restart on the same database)
      // returns the stored set, which start() has already published again.
      const stored = request.version === undefined ? undefined : repository.find(request.kind, request.version);
      if (stored && stored.set.bodySha256 === sha256Hex(canonicalJson(request.body))) return stored.set;
      const { set } = authoring.create(request);
      await service.publishPending();
      return set;
    },
    stop() {
      service.stop();
      repository.close();
    },
  };
}
