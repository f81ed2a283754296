import { serve } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import { afterAll } from 'vitest'

/** Serves an app on 127.0.0.1 (random port) for this test file; closed after it. */
export async function serveForTests(app: { fetch: (request: Request) => Response | Promise<Response> }): Promise<string> {
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}
