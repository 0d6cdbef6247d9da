import { TERMINAL_STATUS_SCHEMA, terminalStatusSchema, type TerminalStatus } from '@busfare/shared-protocol';

/** Status fields that other parts of the terminal report (device health, alerts, parameters). */
export type StatusDetails = Partial<Pick<TerminalStatus, 'parameters' | 'devices' | 'alerts'>>;

export interface StatusInputs {
  terminalId: string;
  vehicleId: string;
  softwareVersion: string;
  state: TerminalStatus['state'];
  at: Date;
  backlog?: number;
  lastSequence?: number;
  details?: StatusDetails;
}

/** Builds a status message and checks it against the status schema; throws on invalid fields. */
export function buildStatus(inputs: StatusInputs): TerminalStatus {
  const status: TerminalStatus = {
    schema: TERMINAL_STATUS_SCHEMA,
    terminalId: inputs.terminalId,
    state: inputs.state,
    at: inputs.at.toISOString(),
    softwareVersion: inputs.softwareVersion,
    vehicleId: inputs.vehicleId,
    ...(inputs.backlog === undefined ? {} : { backlog: inputs.backlog }),
    ...(inputs.lastSequence === undefined ? {} : { lastSequence: inputs.lastSequence }),
    ...inputs.details,
  };
  return terminalStatusSchema.parse(status);
}
