import { getRequestListener } from '@hono/node-server'
import type { RequestListener } from 'node:http'
import { systemClock } from '../../src/core/shared/ports.js'
import { createNodeListener } from '../../src/entry/node-listener.js'
import { shippedPolicies, type buildService } from './service.js'

/**
 * The Node entry's two doors over a test service: `listener` (the cache-hit path, then the app)
 * as the entry builds it, `hono` (the app alone), and how many requests reached the app through
 * `listener`.
 */
export async function twoDoors(service: Awaited<ReturnType<typeof buildService>>) {
  const hono = getRequestListener(service.app.fetch)
  const counted = { toApp: 0 }
  const app: RequestListener = (req, res) => {
    counted.toApp++
    return hono(req, res)
  }
  const listener = await createNodeListener(
    { composed: service, policies: await shippedPolicies(), config: service.config, logger: service.logger, arrivedAt: () => systemClock.now() },
    app,
  )
  return { listener, hono, counted }
}
