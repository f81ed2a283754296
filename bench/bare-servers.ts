/**
 * The fastest things the service could be, for the cache-hit comparison: a bare node:http
 * server and a bare Hono app on @hono/node-server, each reading a JSON body and answering a
 * verdict-sized JSON object. KIND=node|hono; KIND=budget is node:http answering each request
 * exactly BUDGET_MS after it arrived (the floor for the burst runs). Prints its URL.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'

const answer = { id: 'x', safe: true, action: 'allow', categories: [], confidence: 0.97, source: 'cache', policy: 'default', policy_version: 'v', model: 'm', latency_ms: 0, budget_ms: 800 }

if (process.env.KIND === 'hono') {
  const app = new Hono()
  app.post('/v1/moderate', async (c) => {
    await c.req.json()
    return c.json(answer)
  })
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => console.log(`http://127.0.0.1:${info.port}`))
  process.on('SIGTERM', () => server.close(() => process.exit(0)))
} else {
  const delayMs = process.env.KIND === 'budget' ? Number(process.env.BUDGET_MS ?? 300) : 0
  const server = createServer((req, res) => {
    const arrived = performance.now()
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'))
      const reply = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
      if (delayMs > 0) setTimeout(reply, arrived + delayMs - performance.now())
      else reply()
    })
  })
  server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
  process.on('SIGTERM', () => server.close(() => process.exit(0)))
}
