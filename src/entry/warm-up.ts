import { createNoopMeter, ProxyTracerProvider } from '@opentelemetry/api'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import sharp from 'sharp'
import { composeApp } from '../compose.js'
import { parseConfig } from '../config.js'
import type { ImageProcessor } from '../core/images.js'
import type { Policy, PolicyRegistry } from '../core/policy.js'
import { silentLogger } from '../core/ports.js'
import type { TextClassifier } from '../core/text-classifier.js'

export interface WarmUpOptions {
  policies: PolicyRegistry
  images: ImageProcessor
  classifier?: TextClassifier
  /** How many requests to run; 0 skips the warm-up. */
  requests: number
  nextTurn?: (callback: () => void) => void
  /** The model transport the real app uses, so its code is warmed too. */
  fetch?: typeof fetch
}

const WORDS = ['park', 'walk', 'photo', 'holiday', 'dinner', 'garden', 'concert', 'review', 'recipe', 'match', 'weather', 'library', 'train', 'coffee']
const CONCURRENCY = 16
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
export async function warmUp({ policies, images, classifier, requests, nextTurn, fetch }: WarmUpOptions): Promise<{ requests: number; ms: number }> {
  if (requests <= 0) return { requests: 0, ms: 0 }
  const started = performance.now()
  const fake = await startCannedGemini()
  try {
    const config = parseConfig({ GEMINI_API_KEY: 'warm-up', GEMINI_BASE_URL: fake.url, LOG_LEVEL: 'silent' })
    // Its own no-op telemetry: synthetic verdicts and model calls must not reach the exporters.
    const telemetry = { tracer: new ProxyTracerProvider().getTracer('warm-up'), meter: createNoopMeter() }
    const { app } = composeApp({ config, policies: withoutProviders(policies), images, classifier, logger: silentLogger, nextTurn, telemetry, providerOptions: { fetch } })
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 120, b: 40 } } }).png().toBuffer()
    const names = policies.list().map((policy) => policy.name)
    const request = (i: number) => {
      const text = `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} number ${i} of the warm-up`
      const policy = names[i % names.length]
      // Mostly JSON text, some repeated (the cache-hit path), some plain text, some with an image,
      // and some the model never answers (the timeout verdict and the aborted call).
      if (i % 8 === 7) return app.request('/v1/moderate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `${text} ${HANG}`, policy, budget_ms: 15 }) })
      if (i % 10 === 9) return app.request('/v1/moderate?policy=' + policy, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png })
      if (i % 5 === 4) return app.request('/v1/moderate', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text })
      const body = JSON.stringify({ text: i % 3 === 2 ? 'the same warm-up text' : text, policy })
      return app.request('/v1/moderate', { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    }
    for (let i = 0; i < requests; i += CONCURRENCY) {
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, requests - i) }, (_, k) => Promise.resolve(request(i + k)).then((res) => res.arrayBuffer())))
    }
    return { requests, ms: Math.round(performance.now() - started) }
  } finally {
    await fake.close()
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
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    // A call carrying the marker is never answered: the caller's budget ends and it aborts.
    req.on('end', () => (Buffer.concat(chunks).includes(HANG) ? undefined : res.writeHead(200, { 'content-type': 'application/json' }).end(answer)))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
