import { Redis } from 'ioredis'
import type { Logger } from '../core/shared/ports.js'

export type RedisState = 'connecting' | 'connected' | 'down'

export interface RedisConnection {
  client: Redis
  state(): RedisState
  close(): Promise<void>
}

/**
 * One ioredis client for the process, set so that Redis can never hold a request up: commands
 * fail at once while disconnected (no offline queue) and are given up after `timeoutMs`; the
 * client reconnects by itself, every 0.1-2 s. The connection's state is logged once per change
 * (not once per failed command); the URL's password never is.
 *
 * @example
 * const redis = connectRedis(config.REDIS_URL, { logger, timeoutMs: 25 })
 */
export function connectRedis(url: string, { logger, timeoutMs }: { logger: Logger; timeoutMs: number }): RedisConnection {
  const where = redactedUrl(url)
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeoutMs,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
  })
  let state: RedisState = 'connecting'
  let closing = false
  const become = (next: RedisState, error?: unknown) => {
    if (next === state || closing) return
    state = next
    if (next === 'connected') logger.info('redis connected', { redis: where })
    else if (next === 'down') logger.error('redis unavailable: shared state falls back (cache misses)', { redis: where, error: error === undefined ? undefined : String(error) })
  }
  client.on('ready', () => become('connected'))
  client.on('error', (error: unknown) => become('down', error))
  client.on('end', () => become('down'))
  return {
    client,
    state: () => state,
    close: async () => {
      closing = true
      await client.quit().catch(() => client.disconnect())
    },
  }
}

/** The URL as it may be logged: no user name, password or query (ioredis reads ?password= too). */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url)
    parsed.username = ''
    parsed.password = ''
    parsed.search = ''
    return parsed.href
  } catch {
    return '(unparsable REDIS_URL)'
  }
}
