/**
 * logging/: One JSON line per event, with trace ids; never content, only its hash and size.
 *
 * May import: core/telemetry, core/shared.
 */
import type { LogFields, Logger } from '../core/shared/ports.js'
import { activeTraceLogFields } from '../core/telemetry/trace-context.js'

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const
export type LogLevel = keyof typeof LEVELS

export interface JsonLoggerOptions {
  level?: LogLevel
  /** Where each JSON line goes; stdout by default. */
  write?: (line: string) => void
  /** Fields on every line (a cluster worker's pid). */
  base?: LogFields
}

/**
 * One JSON object per line. Fields are whatever callers pass: hashes and sizes, never content;
 * plus `trace_id` and `span_id` when a span is active.
 *
 * @example
 * const logger = createJsonLogger({ level: 'info' })
 * logger.info('listening', { port: 8080 })
 */
export function createJsonLogger({ level = 'info', write = (line) => console.log(line), base }: JsonLoggerOptions = {}): Logger {
  const threshold = LEVELS[level]
  const log = (name: Exclude<LogLevel, 'silent'>) => (message: string, fields: LogFields = {}) => {
    if (LEVELS[name] < threshold) return
    // Inside a traced request the line carries its trace and span ids (fields given win).
    write(JSON.stringify({ time: new Date().toISOString(), level: name, msg: message, ...base, ...activeTraceLogFields(), ...fields }))
  }
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), writes: (name) => LEVELS[name] >= threshold }
}
