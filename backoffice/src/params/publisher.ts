import {
  PARAMETER_SET_SCHEMA,
  type ParameterKind,
  type ParameterSet,
  canonicalJson,
  parameterSetSchema,
  sha256Hex,
  topics,
} from '@busfare/shared-protocol';
import type { MqttClient } from 'mqtt';

/**
 * Publishes a versioned parameter set, retained at QoS 1 on `parameters/{kind}`, so that a
 * terminal that connects later still receives the current set. The hash covers the canonical
 * JSON of the body, so key order does not change it. Resolves once the broker has acknowledged it.
 */
export async function publishParameterSet(
  client: MqttClient,
  kind: ParameterKind,
  version: number,
  body: unknown,
  effectiveFrom: string,
  now: Date = new Date(),
): Promise<ParameterSet> {
  const parameterSet = parameterSetSchema.parse({
    schema: PARAMETER_SET_SCHEMA,
    kind,
    version,
    effectiveFrom,
    publishedAt: now.toISOString(),
    bodySha256: sha256Hex(canonicalJson(body)),
    body,
  });
  await client.publishAsync(topics.parameters(kind), JSON.stringify(parameterSet), { qos: 1, retain: true });
  return parameterSet;
}
