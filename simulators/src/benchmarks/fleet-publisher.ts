import { topics } from '@busfare/shared-protocol';
import { type MqttClient, connectAsync } from 'mqtt';

export interface PublishingTerminal {
  terminalId: string;
  /** Transaction batches, already serialised, as text or as its UTF-8 bytes. */
  payloads: readonly (string | Buffer)[];
  username?: string;
  password?: string;
}

/**
 * Sends every terminal's batches to its transactions topic at QoS 1, keeping at most `window`
 * batches per terminal without an acknowledgement, as the uplink does. Resolves with the
 * milliseconds from the first publish to the last acknowledgement. `onStart` runs once every
 * terminal is connected, just before the first publish.
 */
export async function publishFleet(brokerUrl: string, terminals: readonly PublishingTerminal[], window: number, onStart?: () => void): Promise<number> {
  const clients: MqttClient[] = [];
  try {
    for (const terminal of terminals) {
      const client = await connectAsync(brokerUrl, {
        protocolVersion: 4,
        clientId: terminal.terminalId,
        clean: true,
        reconnectPeriod: 0,
        ...(terminal.username === undefined ? {} : { username: terminal.username, password: terminal.password }),
      });
      clients.push(client);
      await client.subscribeAsync(topics.acks(terminal.terminalId), { qos: 1 });
    }

    onStart?.();
    const started = performance.now();
    await Promise.all(
      terminals.map(
        (terminal, index) =>
          new Promise<void>((resolve) => {
            const client = clients[index]!;
            const topic = topics.transactions(terminal.terminalId);
            let next = 0;
            let acked = 0;
            const send = () => {
              if (next < terminal.payloads.length) client.publish(topic, terminal.payloads[next++]!, { qos: 1 });
            };
            client.on('message', () => {
              acked += 1;
              if (acked >= terminal.payloads.length) resolve();
              else send();
            });
            for (let i = 0; i < window; i += 1) send();
            if (terminal.payloads.length === 0) resolve();
          }),
      ),
    );
    return performance.now() - started;
  } finally {
    await Promise.all(clients.map((client) => client.endAsync(true)));
  }
}
