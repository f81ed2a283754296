import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKeepAliveFetch } from '../../src/net/keep-alive-fetch.js'

let url = ''
let connections = 0
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  let body = ''
  req.on('data', (chunk: Buffer) => (body += chunk))
  req.on('end', () => {
    if (req.url === '/hang') return
    if (req.url === '/error') return void res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' }).end('{"error":{"code":429}}')
    res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] }).end(JSON.stringify({ method: req.method, body, key: req.headers['x-goog-api-key'] }))
  })
})
server.on('connection', () => connections++)

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

describe('the keep-alive fetch under the model clients', () => {
  it('sends method, headers and body, answers a web Response, and reuses one connection', async () => {
    const fetch = createKeepAliveFetch()
    const before = connections
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${url}/v1beta/models/m:generateContent`, { method: 'POST', headers: { 'x-goog-api-key': 'k', 'content-type': 'application/json' }, body: `{"n":${i}}` })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ method: 'POST', body: `{"n":${i}}`, key: 'k' })
      expect(res.headers.get('set-cookie')).toBe('a=1, b=2')
    }
    expect(connections - before).toBe(1)
  })

  it('answers error statuses as responses, as fetch does', async () => {
    const res = await createKeepAliveFetch()(`${url}/error`, { method: 'POST', body: '{}' })
    expect([res.status, res.headers.get('retry-after'), await res.text()]).toEqual([429, '3', '{"error":{"code":429}}'])
  })

  it('rejects with the signal\'s reason when aborted, before or during the call', async () => {
    const fetch = createKeepAliveFetch()
    const reason = new Error('latency budget exhausted')
    const during = new AbortController()
    const pending = fetch(`${url}/hang`, { method: 'POST', body: '{}', signal: during.signal })
    setTimeout(() => during.abort(reason), 20)
    await expect(pending).rejects.toBe(reason)
    await expect(fetch(`${url}/`, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
  })
})
