import { beforeAll, describe, expect, it } from 'vitest'
import { serveForTests } from '../helpers/serve.js'
import { buildService } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

const gemini = useFakeGemini()
let base: string

beforeAll(async () => {
  const { app } = await buildService({ gemini, env: { MODERATION_API_KEYS: 'perspective-key' } })
  base = await serveForTests(app)
})

let counter = 0
const fresh = (text = 'you are') => `${text} #${++counter}-${Date.now()}`

/** A Perspective client's request: the documented body, the key in the query string. */
const analyze = (body: unknown, key = 'perspective-key') =>
  fetch(`${base}/v1alpha1/comments:analyze?key=${key}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

describe('POST /v1alpha1/comments:analyze (Perspective)', () => {
  it('logs its route by its path, not the catch-all', async () => {
    const { app, logs } = await buildService({ gemini, env: { MODERATION_API_KEYS: 'perspective-key' } })
    const res = await app.request('/v1alpha1/comments:analyze?key=perspective-key', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ comment: { text: fresh('hello') }, requestedAttributes: { TOXICITY: {} } }) })
    expect(res.status).toBe(200)
    expect(logs.filter((line) => line.msg === 'request').map((line) => line.route)).toEqual(['/v1alpha1/comments:analyze'])
  })

  it('answers the requested attributes as PROBABILITY summary scores, with languages', async () => {
    gemini.script({ verdict: { safe: false, categories: ['harassment'], confidence: 0.9 } })
    const res = await analyze({
      comment: { text: fresh('you are an idiot') },
      requestedAttributes: { TOXICITY: {}, INSULT: {}, THREAT: {}, SEVERE_TOXICITY: {} },
      languages: ['en'],
      doNotStore: true,
      clientToken: 'abc',
    })
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({
      attributeScores: {
        // Harassment at 0.9 is a block on the default policy: TOXICITY takes the block floor.
        TOXICITY: { summaryScore: { value: 1, type: 'PROBABILITY' } },
        INSULT: { summaryScore: { value: 0.9, type: 'PROBABILITY' } },
        THREAT: { summaryScore: { value: 0, type: 'PROBABILITY' } },
        SEVERE_TOXICITY: { summaryScore: { value: 1, type: 'PROBABILITY' } },
      },
      languages: ['en'],
      clientToken: 'abc',
      moderation: { action: 'block', source: 'model' },
    })
    expect(Object.keys(body.attributeScores as object).sort()).toEqual(['INSULT', 'SEVERE_TOXICITY', 'THREAT', 'TOXICITY'])
  })

  it('scores IDENTITY_ATTACK from hate, and PROFANITY from insults', async () => {
    gemini.script({ verdict: { safe: false, categories: ['hate'], confidence: 0.7 } })
    const body = (await (await analyze({ comment: { text: fresh() }, requestedAttributes: { IDENTITY_ATTACK: {}, PROFANITY: {} } })).json()) as {
      attributeScores: Record<string, { summaryScore: { value: number } }>
      languages: string[]
    }
    expect(body.attributeScores.IDENTITY_ATTACK?.summaryScore.value).toBe(0.7)
    expect(body.attributeScores.PROFANITY?.summaryScore.value).toBe(0)
    expect(body.languages).toEqual(['en'])
  })

  it('never scores what the policy blocks or reviews below the floor, whatever category triggered it', async () => {
    gemini.script({ verdict: { safe: false, categories: ['sexual_minors'], confidence: 0.95 } }, { verdict: { safe: true, categories: [], confidence: 0.2 } })
    const blocked = (await (await analyze({ comment: { text: fresh() }, requestedAttributes: { TOXICITY: {}, SEVERE_TOXICITY: {} } })).json()) as {
      attributeScores: Record<string, { summaryScore: { value: number } }>
    }
    expect(blocked.attributeScores.TOXICITY?.summaryScore.value).toBe(1)
    expect(blocked.attributeScores.SEVERE_TOXICITY?.summaryScore.value).toBe(1)
    const reviewed = (await (await analyze({ comment: { text: fresh() }, requestedAttributes: { TOXICITY: {} } })).json()) as {
      attributeScores: Record<string, { summaryScore: { value: number } }>
      moderation: { action: string }
    }
    expect(reviewed.moderation.action).toBe('review')
    expect(reviewed.attributeScores.TOXICITY?.summaryScore.value).toBe(0.8)
  })

  it('leaves out attributes scored below their scoreThreshold, as Perspective does', async () => {
    gemini.script({ verdict: { safe: false, categories: ['harassment'], confidence: 0.9 } })
    const body = (await (await analyze({ comment: { text: fresh() }, requestedAttributes: { INSULT: { scoreThreshold: 0.5 }, THREAT: { scoreThreshold: 0.5 } } })).json()) as {
      attributeScores: Record<string, unknown>
    }
    expect(Object.keys(body.attributeScores)).toEqual(['INSULT'])
  })

  it('answers an unknown method under /v1alpha1 with a Google-shaped 404', async () => {
    const res = await fetch(`${base}/v1alpha1/comments:suggestscore?key=perspective-key`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } })
  })

  it('scores every attribute 1 on a fallback, so a threshold holds the comment', async () => {
    gemini.script({ hang: true })
    const body = (await (await analyze({ comment: { text: fresh() }, requestedAttributes: { TOXICITY: {} } })).json()) as {
      attributeScores: Record<string, { summaryScore: { value: number } }>
      moderation: { source: string; fallback_reason: string }
    }
    expect(body.attributeScores.TOXICITY?.summaryScore.value).toBe(1)
    expect(body.moderation).toMatchObject({ source: 'fallback', fallback_reason: 'timeout' })
  }, 5000)

  it('refuses an unsupported attribute with a Google API error that names it', async () => {
    const res = await analyze({ comment: { text: 'hi' }, requestedAttributes: { TOXICITY: {}, FLIRTATION: {} } })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: number; message: string; status: string; details: { reason: string; metadata: { request_id: string } }[] } }
    expect(body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT', message: expect.stringMatching(/FLIRTATION not supported\. Supported attributes: TOXICITY/) })
    expect(body.error.details[0]).toMatchObject({ reason: 'invalid_request', metadata: { request_id: res.headers.get('x-request-id') } })
  })

  it('answers malformed requests, an empty comment and a bad key in the same Google shape', async () => {
    const missing = await analyze({ requestedAttributes: { TOXICITY: {} } })
    expect(missing.status).toBe(400)
    expect(await missing.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT', message: expect.stringMatching(/^comment/) } })
    const empty = await analyze({ comment: { text: '  ' }, requestedAttributes: { TOXICITY: {} } })
    expect(await empty.json()).toMatchObject({ error: { code: 400, message: expect.stringMatching(/nothing to moderate/) } })
    const none = await analyze({ comment: { text: 'hi' }, requestedAttributes: {} })
    expect(await none.json()).toMatchObject({ error: { code: 400, message: expect.stringMatching(/at least one attribute/) } })
    const unauthorised = await analyze({ comment: { text: 'hi' }, requestedAttributes: { TOXICITY: {} } }, 'wrong')
    expect(unauthorised.status).toBe(401)
    expect(await unauthorised.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } })
  })
})
