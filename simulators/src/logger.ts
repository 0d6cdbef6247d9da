// The simulators log as the terminal does: one logger set-up for the bench, its buses and tools.
export { createLogger, type Logger } from '@busfare/terminal';
