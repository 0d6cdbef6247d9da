/** MQTT topic builders. Every topic lives under one versioned root. */
export const TOPIC_ROOT = 'busfare/v1';

export const topics = {
  transactions: (terminalId: string) => `${TOPIC_ROOT}/terminals/${terminalId}/transactions`,
  acks: (terminalId: string) => `${TOPIC_ROOT}/terminals/${terminalId}/acks`,
  positions: (terminalId: string) => `${TOPIC_ROOT}/terminals/${terminalId}/positions`,
  status: (terminalId: string) => `${TOPIC_ROOT}/terminals/${terminalId}/status`,
  commands: (terminalId: string) => `${TOPIC_ROOT}/terminals/${terminalId}/commands`,
  shifts: (terminalId: string) => `${TOPIC_ROOT}/terminals/${terminalId}/shifts`,
  parameters: (kind: string) => `${TOPIC_ROOT}/parameters/${kind}`,
  /** Subscription filters for the back office. */
  allTransactions: `${TOPIC_ROOT}/terminals/+/transactions`,
  allPositions: `${TOPIC_ROOT}/terminals/+/positions`,
  allStatus: `${TOPIC_ROOT}/terminals/+/status`,
  allParameters: `${TOPIC_ROOT}/parameters/+`,
  allShifts: `${TOPIC_ROOT}/terminals/+/shifts`,
} as const;

/** Extracts the terminal id from a `terminals/{id}/...` topic, or returns undefined. */
export function terminalIdFromTopic(topic: string): string | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT || parts[2] !== 'terminals') return undefined;
  return parts[3];
}
