import type { Judgement } from './verdict.js'

/** Time, injected so tests and the Worker can drive it. */
export interface Clock {
  /** Milliseconds, monotonic enough for budgets. */
  now(): number
  /** Resolves after `ms`; `cancel` stops the timer. */
  timer(ms: number): { promise: Promise<void>; cancel(): void }
}

export const systemClock: Clock = {
  now: () => performance.now(),
  timer(ms) {
    let handle: ReturnType<typeof setTimeout> | undefined
    const promise = new Promise<void>((resolve) => {
      handle = setTimeout(resolve, Math.max(0, ms))
    })
    return { promise, cancel: () => clearTimeout(handle) }
  },
}

/** Where model judgements are kept between identical requests. Async so a shared store fits. */
export interface VerdictCache {
  get(key: string): Promise<Judgement | undefined>
  /**
   * The in-process level's entry, synchronously, without asking any shared level: what a path
   * that answers without awaiting (Node's cache hits) can use. Absent: no in-process level.
   */
  getLocal?(key: string): Judgement | undefined
  /** `ttlMs` shortens the entry's life below the cache's own TTL (a copy from another level). */
  set(key: string, judgement: Judgement, ttlMs?: number): Promise<void>
}

export type LogFields = Record<string, unknown>

/** Structured logs. Callers pass hashes and sizes, never raw content or secrets. */
export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
  /** Whether lines of this level are written at all (absent: assume they are), to skip building them. */
  writes?(level: 'debug' | 'info' | 'warn' | 'error'): boolean
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }
