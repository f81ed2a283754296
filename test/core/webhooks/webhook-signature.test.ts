import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { importWebhookSecrets, signWebhook, verifyWebhook } from '../../../src/core/webhooks/webhook-signature.js'

const secret = `whsec_${Buffer.from('a test secret of 32 bytes, ok!!!').toString('base64')}`
const newSecret = `whsec_${Buffer.from('the rotated secret, 32 bytes long').toString('base64')}`
const body = JSON.stringify({ type: 'moderation.completed', timestamp: '2026-11-21T04:00:00.000Z', data: { safe: true } })

describe('Standard Webhooks signatures', () => {
  it('are accepted by the reference library (standardwebhooks), for every key during rotation', async () => {
    const timestamp = Math.floor(Date.now() / 1000)
    const signature = await signWebhook(await importWebhookSecrets([newSecret, secret]), 'msg_1', timestamp, body)
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signature }
    expect(signature.split(' ')).toHaveLength(2)
    for (const receiverSecret of [secret, newSecret]) expect(new Webhook(receiverSecret).verify(body, headers)).toEqual(JSON.parse(body))
  })

  it('match the reference library\'s own signature', async () => {
    const timestamp = 1_763_700_000
    const ours = await signWebhook(await importWebhookSecrets([secret]), 'msg_2', timestamp, body)
    expect(ours).toBe(new Webhook(secret).sign('msg_2', new Date(timestamp * 1000), body))
  })

  describe('inbound verification', () => {
    const now = 1_763_700_000
    const sign = async (id: string, at: number, payload: string, key = secret) => ({
      id,
      timestamp: String(at),
      signature: new Webhook(key).sign(id, new Date(at * 1000), payload),
    })

    it('accepts a valid signature', async () => {
      expect(await verifyWebhook(await importWebhookSecrets([secret]), await sign('msg_a', now, body), body, now)).toEqual({ ok: true, value: { id: 'msg_a' } })
    })

    it.each([
      ['a wrong secret', async () => sign('m', now, body, newSecret), body, /no valid webhook signature/],
      ['a timestamp over 5 minutes old', async () => sign('m', now - 301, body), body, /more than 300 s off/],
      ['a timestamp over 5 minutes ahead', async () => sign('m', now + 301, body), body, /more than 300 s off/],
      ['a body altered by one byte', async () => sign('m', now, body), body.replace('true', 'trUe'), /no valid webhook signature/],
      ['missing headers', async () => ({ id: 'm' }), body, /all required/],
    ])('refuses %s', async (_name, headers, payload, message) => {
      const result = await verifyWebhook(await importWebhookSecrets([secret]), await headers(), payload, now)
      expect(result).toMatchObject({ ok: false, problem: { message: expect.stringMatching(message) } })
    })
  })
})
