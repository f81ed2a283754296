import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { buildService } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

const secret = `whsec_${Buffer.from('inbound signing secret, 32 bytes').toString('base64')}`
const gemini = useFakeGemini()

/** A caller signing its request with the reference standardwebhooks library. */
function signedRequest(body: string, { id = `msg_${Math.random()}`, at = new Date(), key = secret } = {}) {
  const signature = new Webhook(key).sign(id, at, body)
  return new Request('http://localhost/v1/moderate', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature },
  })
}

const body = () => JSON.stringify({ text: `signed ${Math.random()}` })

describe('requests signed the Standard Webhooks way, instead of a bearer key', () => {
  const service = () => buildService({ gemini, env: { WEBHOOK_SECRET: secret, MODERATION_API_KEYS: 'bearer-key' } })

  it('accepts a valid signature without a bearer key', async () => {
    const { app } = await service()
    const res = await app.request(signedRequest(body()))
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ source: 'model' })
  })

  it.each([
    ['a wrong secret', () => signedRequest(body(), { key: `whsec_${Buffer.from('some other secret, 32 bytes long').toString('base64')}` }), /no valid webhook signature/],
    ['a timestamp 6 minutes old', () => signedRequest(body(), { at: new Date(Date.now() - 6 * 60_000) }), /more than 300 s off/],
    ['a timestamp 6 minutes ahead', () => signedRequest(body(), { at: new Date(Date.now() + 6 * 60_000) }), /more than 300 s off/],
  ])('refuses %s with 401', async (_name, make, message) => {
    const { app } = await service()
    const res = await app.request(make())
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized', message: expect.stringMatching(message) } })
  })

  it('refuses a body altered by one byte', async () => {
    const { app } = await service()
    const original = JSON.stringify({ text: 'hello there' })
    const signed = signedRequest(original)
    const tampered = new Request(signed, { body: original.replace('hello', 'hellp') })
    const res = await app.request(tampered)
    expect(res.status).toBe(401)
  })

  it('refuses a replayed webhook-id', async () => {
    const { app } = await service()
    const payload = body()
    expect((await app.request(signedRequest(payload, { id: 'msg_replay' }))).status).toBe(200)
    const replay = await app.request(signedRequest(payload, { id: 'msg_replay' }))
    expect(replay.status).toBe(401)
    expect(await replay.json()).toMatchObject({ error: { message: expect.stringMatching(/already used/) } })
  })

  it('still accepts a bearer key, and refuses a request with neither', async () => {
    const { app } = await service()
    const post = (headers: Record<string, string>) =>
      app.request('/v1/moderate', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body() })
    expect((await post({ authorization: 'Bearer bearer-key' })).status).toBe(200)
    expect((await post({})).status).toBe(401)
  })

  it('verifies with WEBHOOK_INBOUND_SECRET, when set, so holders of the delivery secret cannot call the API', async () => {
    const inbound = `whsec_${Buffer.from('a separate inbound secret, 32 b!').toString('base64')}`
    const { app } = await buildService({ gemini, env: { WEBHOOK_SECRET: secret, WEBHOOK_INBOUND_SECRET: inbound, MODERATION_API_KEYS: 'bearer-key' } })
    expect((await app.request(signedRequest(body()))).status).toBe(401)
    expect((await app.request(signedRequest(body(), { key: inbound }))).status).toBe(200)
  })
})
