import { describe, expect, it } from 'vitest'
import { systemClock } from '../../src/core/shared/ports.js'
import { buildService, roomyPolicies } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

const gemini = useFakeGemini()
let counter = 0
const fresh = () => `overload ${++counter}-${Date.now()}`
const verdictOf = async (res: Response) => (await res.json()) as { source: string; fallback_reason?: string; safe: boolean; action: string }

describe('overload and failing models', () => {
  it('opens the circuit when the model fails at the configured rate over the minimum calls: answers circuit_open without calling the model, then probes and closes', async () => {
    let skew = 0
    const clock = { now: () => systemClock.now() + skew, timer: systemClock.timer }
    const env = { MODERATION_BREAKER_MIN_CALLS: '4', MODERATION_BREAKER_FAILURE_RATE: '0.5', MODERATION_BREAKER_COOLDOWN_MS: '10000' }
    const { moderate, app } = await buildService({ gemini, clock, env })
    gemini.setDefault({ status: 500 })
    for (let i = 0; i < 3; i++) expect((await verdictOf(await moderate({ text: fresh() }))).fallback_reason).toBe('upstream_error')
    // Three failures are fewer calls than the minimum: no verdict on the model yet.
    expect(await (await app.request('/readyz')).json()).toMatchObject({ circuit: 'closed' })
    expect((await verdictOf(await moderate({ text: fresh() }))).fallback_reason).toBe('upstream_error')
    expect(await (await app.request('/readyz')).json()).toMatchObject({ status: 'ready', circuit: 'open' })
    const calls = gemini.requests.length
    const refused = await verdictOf(await moderate({ text: fresh() }))
    expect(refused).toMatchObject({ source: 'fallback', fallback_reason: 'circuit_open', safe: false, action: 'review' })
    expect(gemini.requests.length).toBe(calls)
    skew += 10_000 // the cool-down passes
    gemini.setDefault({ verdict: { safe: true, categories: [], confidence: 0.99 } })
    expect((await verdictOf(await moderate({ text: fresh() }))).source).toBe('model')
    expect(await (await app.request('/readyz')).json()).toMatchObject({ circuit: 'closed' })
  })

  it('keeps the circuit closed when the model refuses requests for their content (400, 413): a client cannot open it for everyone', async () => {
    const { moderate, app } = await buildService({ gemini, env: { MODERATION_BREAKER_MIN_CALLS: '4', MODERATION_BREAKER_FAILURE_RATE: '0.5' } })
    gemini.setDefault({ status: 400, message: 'Unable to process input image' })
    for (let i = 0; i < 8; i++) expect(await verdictOf(await moderate({ text: fresh() }))).toMatchObject({ source: 'fallback', fallback_reason: 'upstream_error', safe: false })
    expect(await (await app.request('/readyz')).json()).toMatchObject({ circuit: 'closed' })
  })

  it('keeps the circuit closed when a healthy model\'s answers are late only because the process was busy', async () => {
    const budget = 1_000
    const burst = 20
    const { moderate, app } = await buildService({ gemini, env: { MODERATION_BREAKER_MIN_CALLS: '10' } })
    let arrived = 0
    let allArrived!: () => void
    const everyCallOut = new Promise<void>((resolve) => (allArrived = resolve))
    // The model answers every call at once, as soon as the whole burst has reached it.
    gemini.setDefault(() => {
      if (++arrived === burst) allArrived()
      return { after: everyCallOut, then: { verdict: { safe: true, categories: [], confidence: 0.97 } } }
    })
    const responses = Array.from({ length: burst }, () => moderate({ text: fresh(), budget_ms: budget }))
    await everyCallOut
    // A CPU-bound stretch longer than the budget: the answers wait unread while the deadlines pass.
    const until = performance.now() + budget + 200
    while (performance.now() < until) {
      // busy
    }
    const reasons = await Promise.all(responses.map(async (res) => (await verdictOf(await res)).fallback_reason))
    // Enough timeouts to open the circuit, had they been held against the model.
    expect(reasons.filter((reason) => reason === 'timeout').length).toBeGreaterThanOrEqual(10)
    expect(await (await app.request('/readyz')).json()).toMatchObject({ circuit: 'closed' })
    gemini.setDefault({ verdict: { safe: true, categories: [], confidence: 0.97 } })
    expect(await verdictOf(await moderate({ text: fresh() }))).toMatchObject({ source: 'model', safe: true })
  })

  it('answers overloaded when no model-call slot frees up before the budget ends', async () => {
    const { moderate } = await buildService({ gemini, env: { MODERATION_MAX_MODEL_CALLS: '1' } })
    gemini.setDefault({ hang: true })
    // The first call holds the only slot (it has reached the model) before the second asks for one.
    const first = moderate({ text: fresh(), budget_ms: 1_000 })
    while (gemini.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    const second = await moderate({ text: fresh(), budget_ms: 200 })
    expect(await verdictOf(second)).toMatchObject({ source: 'fallback', fallback_reason: 'overloaded', safe: false })
    expect((await verdictOf(await first)).fallback_reason).toBe('timeout')
    expect(gemini.requests).toHaveLength(1)
  })

  it('keeps a shared call waiting for a slot until the longest budget among its callers runs out', async () => {
    // The default policy's 800 ms would cap the long budget to just what the slot and the call
    // take (400 + 400 ms): too close on a loaded machine. Its budget is raised (roomyPolicies).
    const { moderate } = await buildService({ gemini, policies: await roomyPolicies(), env: { MODERATION_MAX_MODEL_CALLS: '1' } })
    gemini.setDefault({ delayMs: 400, then: { verdict: { safe: true, categories: [], confidence: 0.9 } } })
    const holder = moderate({ text: fresh(), budget_ms: 2_000 }) // holds the only slot for 400 ms
    while (gemini.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    const text = fresh()
    // Same content: the second request joins the first's call, which is still waiting for the slot.
    const short = moderate({ text, budget_ms: 150 })
    await new Promise((resolve) => setTimeout(resolve, 20))
    const long = moderate({ text, budget_ms: 2_000 })
    expect(await verdictOf(await short)).toMatchObject({ source: 'fallback', fallback_reason: 'overloaded' })
    expect((await verdictOf(await long)).source).toBe('model')
    expect((await verdictOf(await holder)).source).toBe('model')
  })

  it('sheds load with 503 and Retry-After beyond the in-flight bound, and takes requests again after', async () => {
    const { moderate } = await buildService({ gemini, env: { MODERATION_MAX_IN_FLIGHT: '2' } })
    gemini.setDefault({ delayMs: 200, then: { verdict: { safe: true, categories: [], confidence: 0.9 } } })
    const responses = await Promise.all([1, 2, 3].map(() => moderate({ text: fresh() })))
    expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 503])
    const shed = responses.find((r) => r.status === 503)!
    expect(shed.headers.get('retry-after')).toBe('1')
    expect(await shed.json()).toMatchObject({ error: { code: 'service_unavailable' } })
    expect((await moderate({ text: fresh() })).status).toBe(200)
  })

  it('gives each client its share of the places (MODERATION_MAX_IN_FLIGHT_PER_CLIENT): past it that client gets 429 with Retry-After, another is still served, and the share comes back', async () => {
    const { app, moderate } = await buildService({ gemini, policies: await roomyPolicies(), env: { MODERATION_API_KEYS: 'key-a,key-b', MODERATION_MAX_IN_FLIGHT_PER_CLIENT: '2' } })
    gemini.setDefault({ delayMs: 300, then: { verdict: { safe: true, categories: [], confidence: 0.9 } } })
    const as = (key: string) => ({ authorization: `Bearer ${key}` })
    // Client a fills its share with two slow requests.
    const held = [moderate({ text: fresh() }, as('key-a')), moderate({ text: fresh() }, as('key-a'))]
    while (gemini.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 5))
    const refused = await moderate({ text: fresh() }, as('key-a'))
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(await refused.json()).toMatchObject({ error: { code: 'rate_limited', message: expect.stringContaining('MODERATION_MAX_IN_FLIGHT_PER_CLIENT') } })
    // The same share on Perspective's route (its key in the query), in Google's error shape.
    const analyze = await app.request('/v1alpha1/comments:analyze?key=key-a', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ comment: { text: fresh() }, requestedAttributes: { TOXICITY: {} } }) })
    expect(analyze.status).toBe(429)
    expect(await analyze.json()).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } })
    // Another client is served meanwhile.
    expect((await moderate({ text: fresh() }, as('key-b'))).status).toBe(200)
    expect((await Promise.all(held)).map((res) => res.status)).toEqual([200, 200])
    // Its requests done, client a is served again.
    expect((await moderate({ text: fresh() }, as('key-a'))).status).toBe(200)
  })
})
