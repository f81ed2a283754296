import { createNoopMeter, ProxyTracerProvider } from '@opentelemetry/api'
import { createServer, request as httpRequest, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import sharp from 'sharp'
import { composeApp } from '../app/compose.js'
import { parseConfig } from '../config/config.js'
import type { ImageProcessor } from '../core/images/image-types.js'
import type { Policy, PolicyRegistry } from '../core/moderation/policy.js'
import { silentLogger } from '../core/shared/ports.js'
import type { TextClassifier } from '../core/local/text-classifier.js'
import type { InjectionModel } from '../core/local/injection-model.js'
import { createNodeListener } from './node-listener.js'

export interface WarmUpOptions {
  policies: PolicyRegistry
  images: ImageProcessor
  classifier?: TextClassifier
  injectionModel?: InjectionModel
  /** How many requests to run; 0 skips the warm-up. */
  requests: number
  nextTurn?: (callback: () => void) => void
  /** The model transport the real app uses, so its code is warmed too. */
  fetch?: typeof fetch
}

const WORDS = ['park', 'walk', 'photo', 'holiday', 'dinner', 'garden', 'concert', 'review', 'recipe', 'match', 'weather', 'library', 'train', 'coffee']
const CONCURRENCY = 16
const BURST_CONNECTIONS = 256
// In a warm-up text, asks the canned model never to answer.
const HANG = 'warm-up: no answer'

/**
 * Runs synthetic requests through the whole pipeline before the service listens, so the first
 * real requests do not pay for compiling it: a cold process answered a burst of 256 about twice
 * as slowly as a warm one (issue 12). The requests go to a throwaway app built like the real one
 * but wired to a fake Gemini on loopback inside this process (the real model is never called,
 * and no provider settings are used), with the same policies, classifier and image processor:
 * body parsing, local checks, the cache, @google/genai and fetch, validation, the verdict, JSON
 * out. What it cannot warm: the connections to the real model (a fresh process opens them on
 * its first calls).
 *
 * @example
 * const { ms } = await warmUp({ policies, images, classifier, requests: 200 })
 */
export async function warmUp({ policies, images, classifier, injectionModel, requests, nextTurn, fetch }: WarmUpOptions): Promise<{ requests: number; ms: number }> {
  if (requests <= 0) return { requests: 0, ms: 0 }
  const started = performance.now()
  const fake = await startCannedGemini()
  try {
    const config = parseConfig({ GEMINI_API_KEY: 'warm-up', GEMINI_BASE_URL: fake.url, LOG_LEVEL: 'silent' })
    // Its own no-op telemetry: synthetic verdicts and model calls must not reach the exporters.
    const telemetry = { tracer: new ProxyTracerProvider().getTracer('warm-up'), meter: createNoopMeter() }
    const warmPolicies = withoutProviders(policies)
    const composed = composeApp({ config, policies: warmPolicies, images, classifier, injectionModel, logger: silentLogger, nextTurn, telemetry, providerOptions: { fetch } })
    // Served the way the real app is, over loopback, each request on a new connection as in a burst.
    const server = await listen(await createNodeListener({ composed, policies: warmPolicies, config, logger: silentLogger, arrivedAt: () => performance.now() }))
    try {
      const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 120, b: 40 } } }).png().toBuffer()
      const names = policies.list().map((policy) => policy.name)
      const post = (path: string, type: string, body: string | Buffer) => postOnce(`${server.url}${path}`, type, body)
      const request = (i: number) => {
        const text = `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} number ${i} of the warm-up`
        const policy = names[i % names.length]
        // Mostly JSON text, some repeated (the cache-hit path), some plain text, some with an image,
        // and some the model never answers (the timeout verdict and the aborted call).
        if (i % 8 === 7) return post('/v1/moderate', 'application/json', JSON.stringify({ text: `${text} ${HANG}`, policy, budget_ms: 15 }))
        if (i % 10 === 9) return post(`/v1/moderate?policy=${policy}`, 'image/png', png)
        if (i % 5 === 4) return post('/v1/moderate', 'text/plain', text)
        return post('/v1/moderate', 'application/json', JSON.stringify({ text: i % 3 === 2 ? 'the same warm-up text' : text, policy }))
      }
      for (let i = 0; i < requests; i += CONCURRENCY) {
        await Promise.all(Array.from({ length: Math.min(CONCURRENCY, requests - i) }, (_, k) => request(i + k)))
      }
      // Then one wave of connections at once, as a burst opens them: Node keeps the HTTP parsers
      // they free for the next connections (making one cost ~45 us in a cold burst, issue 12).
      await Promise.all(Array.from({ length: BURST_CONNECTIONS }, () => getOnce(`${server.url}/healthz`)))
      return { requests, ms: Math.round(performance.now() - started) }
    } finally {
      await server.close()
    }
  } finally {
    await fake.close()
  }
}

/** A GET on a connection of its own, its answer read whole. */
function getOnce(url: string): Promise<void> {
  return new Promise((resolve) => {
    httpRequest(url, { agent: false }, (res) => res.resume().on('end', resolve).on('error', () => resolve()))
      .on('error', () => resolve())
      .end()
  })
}

/** A POST on a connection of its own (closed after), its answer read whole; errors end it too. */
function postOnce(url: string, type: string, body: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { method: 'POST', agent: false, headers: { 'content-type': type, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume()
      res.on('end', resolve)
      res.on('error', () => resolve())
    })
    req.on('error', () => resolve())
    req.end(body)
  })
}

/** A loopback server for `listener`, and how to close it (with any connection still open). */
async function listen(listener: RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** The policies as they are, but judged by the default provider and model: the fake. */
function withoutProviders(policies: PolicyRegistry): PolicyRegistry {
  const stripped = new Map<string, Policy>(policies.list().map((policy) => [policy.name, { ...policy, provider: undefined, model: undefined }]))
  return { defaultName: policies.defaultName, get: (name) => stripped.get(name), list: () => [...stripped.values()] }
}

/** A loopback server answering every generateContent call with a clean verdict. */
async function startCannedGemini(): Promise<{ url: string; close: () => Promise<void> }> {
  const answer = JSON.stringify({
    candidates: [{ content: { role: 'model', parts: [{ text: '{"safe":true,"categories":[],"confidence":0.95}' }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 12, totalTokenCount: 112 },
  })
  return listen((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    // A call carrying the marker is never answered: the caller's budget ends and it aborts.
    req.on('end', () => (Buffer.concat(chunks).includes(HANG) ? undefined : res.writeHead(200, { 'content-type': 'application/json' }).end(answer)))
  })
}
