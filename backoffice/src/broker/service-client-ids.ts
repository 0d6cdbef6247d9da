/**
 * MQTT client ids of the back office's own clients. A CONNECT with a client id that is in use takes
 * over that session, so the broker admits no terminal under one of these ids.
 */
export const INGEST_CLIENT_ID = 'busfare-ingest';
export const PARAMETERS_CLIENT_ID = 'busfare-params';
export const SERVICE_CLIENT_IDS: readonly string[] = [INGEST_CLIENT_ID, PARAMETERS_CLIENT_ID];
