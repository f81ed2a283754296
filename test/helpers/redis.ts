import { Redis } from 'ioredis'
import { onTestFinished } from 'vitest'
import { startTcpProxy } from './tcp-proxy.js'

/** The Redis the tests use: REDIS_TEST_URL, or the one every project machine and CI runs. */
export const REDIS_TEST_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379/0'

/**
 * Whether that Redis answers, asked once per test file. Without it the Redis tests are skipped
 * with a one-line reason (a newcomer's laptop); with CI set they fail instead: CI has one.
 */
export async function redisAvailable(): Promise<boolean> {
  const probe = new Redis(REDIS_TEST_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1_000, retryStrategy: () => null })
  try {
    await probe.connect()
    return (await probe.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}

export const needsRedis = async (): Promise<boolean> => {
  const available = await redisAvailable()
  if (available) return true
  if (process.env.CI) throw new Error(`Redis is not reachable at ${REDIS_TEST_URL}, and CI must run the Redis tests`)
  console.warn(`skipping the Redis tests: no Redis at ${REDIS_TEST_URL} (set REDIS_TEST_URL, or start one on 127.0.0.1:6379)`)
  return false
}

/** A TCP proxy in front of the tests' Redis (to cut it, restore it or hold its replies), closed when the test finishes. */
export async function redisBehindProxy() {
  const target = new URL(REDIS_TEST_URL)
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) })
  onTestFinished(() => proxy.close())
  return proxy
}
