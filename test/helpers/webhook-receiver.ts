import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { afterAll } from 'vitest'

export interface Received {
  id: string
  verified: boolean
  payload?: { type: string; timestamp: string; data: Record<string, unknown> }
  status: number
  /** W3C trace context the delivery carried. */
  traceparent?: string
}

/** `until`: the answer waits for it (a receiver still working on the request). */
type Answer = { status: number; headers?: Record<string, string>; until?: Promise<unknown> }

/**
 * A webhook receiver on 127.0.0.1 that verifies every delivery with the reference
 * `standardwebhooks` library (not our code), answers as scripted (200 by default), and lets a
 * test wait for the next delivery.
 */
export async function startWebhookReceiver(secret: string, { closeAfterAll = true } = {}) {
  const webhook = new Webhook(secret)
  const received: Received[] = []
  const script: Answer[] = []
  let waiters: ((r: Received) => void)[] = []
  let arrived = 0
  const server = createServer(async (req, res) => {
    // For tests in another process (workerd): what was received so far.
    if (req.method === 'GET' && req.url === '/__received') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received))
    arrived++
    const body = await readBody(req)
    let payload: Received['payload']
    let verified = false
    try {
      payload = webhook.verify(body, req.headers as Record<string, string>) as Received['payload']
      verified = true
    } catch {
      verified = false
    }
    const answer = script.shift() ?? { status: 200 }
    await answer.until
    const record = { id: String(req.headers['webhook-id']), verified, payload, status: answer.status, traceparent: String(req.headers.traceparent ?? '') || undefined }
    received.push(record)
    res.writeHead(answer.status, answer.headers ?? {}).end()
    for (const resolve of waiters) resolve(record)
    waiters = []
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const close = () => {
    server.closeAllConnections()
    server.close()
  }
  if (closeAfterAll) afterAll(close)
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/hooks/moderation`,
    received,
    /** Deliveries that reached the receiver, answered or not yet. */
    arrived: () => arrived,
    /** Scripted answers for the next deliveries, in order. */
    answer: (...answers: Answer[]) => script.push(...answers),
    /** Forget scripted answers a previous test left unused. */
    clearAnswers: () => void script.splice(0),
    next: () => new Promise<Received>((resolve) => waiters.push(resolve)),
    controlUrl: `http://127.0.0.1:${port}/__received`,
    close,
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
  })
}
