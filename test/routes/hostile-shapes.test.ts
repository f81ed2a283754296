import { describe, expect, it } from 'vitest'
import { buildService } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

const gemini = useFakeGemini()

const post = (path: string, body: BodyInit, contentType: string) => new Request(`http://localhost${path}`, { method: 'POST', body, headers: { 'content-type': contentType } })

/**
 * Sends a hostile body and returns what the caller sees: status, the error's code and message, and
 * how long the service took to answer. The body is built before the clock starts.
 */
async function send(request: Request) {
  const { app } = await buildService({ gemini })
  const started = performance.now()
  const res = await app.request(request)
  const body = (await res.json()) as { error: { code: string | number; message: string; status?: string; details?: { reason: string }[] } }
  const ms = performance.now() - started
  return { status: res.status, code: body.error.details?.[0]?.reason ?? body.error.code, message: body.error.message, ms }
}

/** Refused with a short message, quickly: generous bounds, the measured figures are in bench/hostile-inputs.ts. */
function expectRefused(answer: Awaited<ReturnType<typeof send>>, status: number, code: string, message: RegExp) {
  expect({ status: answer.status, code: answer.code }).toEqual({ status, code })
  expect(answer.message).toMatch(message)
  expect(answer.message.length).toBeLessThan(300)
  expect(answer.ms).toBeLessThan(1000)
}

const boundary = '----hostile-shapes'
const multipartType = `multipart/form-data; boundary=${boundary}`
const part = (name: string, value: string, extraHeader = '') => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n${extraHeader}\r\n${value}\r\n`
const multipart = (parts: string[]) => new TextEncoder().encode(`${parts.join('')}--${boundary}--\r\n`)

describe('absurd body shapes are refused before the parsers do the work', () => {
  it('400 for JSON arrays nested 2M deep, naming the depth limit', async () => {
    const answer = await send(post('/v1/moderate', '['.repeat(2_000_000) + ']'.repeat(2_000_000), 'application/json'))
    expectRefused(answer, 400, 'invalid_request', /nests more than 32 levels deep; at most 32/)
  })

  it('400 for JSON objects nested 1M deep', async () => {
    const answer = await send(post('/v1/moderate', '{"a":'.repeat(1_000_000) + '1' + '}'.repeat(1_000_000), 'application/json'))
    expectRefused(answer, 400, 'invalid_request', /nests more than 32 levels deep/)
  })

  it('400 for a JSON array of 1M elements, naming the value limit', async () => {
    const answer = await send(post('/v1/moderate', `{"images":[${Array(1_000_000).fill('0').join(',')}]}`, 'application/json'))
    expectRefused(answer, 400, 'invalid_request', /more than 10000 values \(array elements and object members\); at most 10000/)
  })

  it('counts no brackets or commas inside strings, escaped quotes included', async () => {
    const { moderate } = await buildService({ gemini })
    gemini.script({ verdict: { safe: true, categories: [], confidence: 0.9 } })
    const text = `${'[{'.repeat(100)}\\"${',"'.repeat(20_000)}\\\\`
    const res = await moderate({ text, images: [] })
    expect(res.status).toBe(200)
  })

  it('refuses an OpenAI input of 100k strings by the value limit, and of 5000 by the batch limit, before judging any', async () => {
    const huge = await send(post('/v1/moderations', JSON.stringify({ input: Array.from({ length: 100_000 }, (_, i) => `text ${i}`) }), 'application/json'))
    expectRefused(huge, 400, 'invalid_request', /more than 10000 values/)
    const many = await send(post('/v1/moderations', JSON.stringify({ input: Array.from({ length: 5_000 }, (_, i) => `text ${i}`) }), 'application/json'))
    expectRefused(many, 413, 'payload_too_large', /^5000 inputs; at most 32 per request$/)
    expect(gemini.requests).toHaveLength(0)
  })

  it('refuses 200k unknown Perspective attributes, and 1000 by count, without echoing them', async () => {
    const attributes = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`UNKNOWN_ATTRIBUTE_${i}`, {}]))
    const analyze = (count: number) => post('/v1alpha1/comments:analyze', JSON.stringify({ comment: { text: 'hi' }, requestedAttributes: attributes(count) }), 'application/json')
    expectRefused(await send(analyze(200_000)), 400, 'invalid_request', /more than 10000 values/)
    const counted = await send(analyze(1_000))
    expectRefused(counted, 400, 'invalid_request', /^1000 attributes requested; at most 6 \(supported attributes: TOXICITY/)
    expect(counted.message).not.toMatch(/UNKNOWN_ATTRIBUTE/)
  })

  it('cuts an unsupported Perspective attribute name of 1 MB short in the error', async () => {
    const name = 'X'.repeat(1_000_000)
    const answer = await send(post('/v1alpha1/comments:analyze', JSON.stringify({ comment: { text: 'hi' }, requestedAttributes: { [name]: {} } }), 'application/json'))
    expectRefused(answer, 400, 'invalid_request', /^Requested attribute X{40}… not supported/)
  })

  it('cuts a 1 MB policy name and a 1 MB key in a schema path short in the error', async () => {
    const policy = await send(post('/v1/moderate', JSON.stringify({ text: 'hi', policy: 'p'.repeat(1_000_000) }), 'application/json'))
    expectRefused(policy, 400, 'invalid_request', /^unknown policy "p{64}…"/)
    const key = 'k'.repeat(1_000_000)
    const path = await send(post('/v1alpha1/comments:analyze', JSON.stringify({ comment: { text: 'hi' }, requestedAttributes: { TOXICITY: { scoreThreshold: 2 }, [key]: 1 } }), 'application/json'))
    expect(path.status).toBe(400)
    expect(path.message.length).toBeLessThan(300)
  })

  it('413 for a multipart body of 150k tiny parts, counted on the raw bytes', async () => {
    const answer = await send(post('/v1/moderate', multipart(Array.from({ length: 150_000 }, () => part('f', 'v'))), multipartType))
    expectRefused(answer, 413, 'payload_too_large', /multipart body has more than 12 parts; at most 12/)
  })

  it('400 for a boundary the form parser would read differently (a quoted ; or \\"), before 150k parts are parsed', async () => {
    for (const quoted of ['a;b', 'a\\"b']) {
      const real = quoted.replace('\\', '')
      const body = new TextEncoder().encode(`${Array.from({ length: 150_000 }, () => `--${real}\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n`).join('')}--${real}--\r\n`)
      const answer = await send(post('/v1/moderate', body, `multipart/form-data; boundary="${quoted}"`))
      expectRefused(answer, 400, 'invalid_request', /boundary/)
    }
    // Read by WHATWG's rules, these name " A" and the first boundary "A"; whatever we read, the
    // form parser is handed the same boundary, so the count always counts what it parses.
    for (const [contentType, real] of [['multipart/form-data; boundary= A', ' A'], ['multipart/form-data; x; boundary=A; boundary=B', 'A']] as const) {
      const parts = Array.from({ length: 150_000 }, () => `--${real}\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n`).join('')
      const body = new TextEncoder().encode(`${parts}--${real}\r\nContent-Disposition: form-data; name="text"\r\n\r\nhello\r\n--${real}--\r\n`)
      // Parsed under the caller's header, this was a 200 after 0.9 s of blocked loop.
      expectRefused(await send(post('/v1/moderate', body, contentType)), 400, 'invalid_request', /multipart/)
    }
  })

  it('413 for a multipart part with a 1 MB header', async () => {
    const answer = await send(post('/v1/moderate', multipart([part('text', 'hello', `X-Padding: ${'a'.repeat(1_000_000)}\r\n`)]), multipartType))
    expectRefused(answer, 413, 'payload_too_large', /part 1 has a header block over 8192 bytes; at most 8192/)
  })

  it('still takes an ordinary form with a quoted boundary and the most parts allowed', async () => {
    const { app } = await buildService({ gemini, env: { MODERATION_MAX_IMAGES: '1' } })
    gemini.script({ verdict: { safe: true, categories: [], confidence: 0.9 } })
    const fields = Array.from({ length: 8 }, () => part('unused', 'x'))
    const body = multipart([part('text', 'hello'), ...fields])
    const res = await app.request(post('/v1/moderate', body, `multipart/form-data; boundary="${boundary}"`))
    expect(await res.text()).toMatch(/"safe":true/)
  })

  it('10 MiB of whitespace, of escaped quotes or of bare closes costs the shape scan milliseconds, not a character-by-character read', async () => {
    const { checkJsonShape } = await import('../../src/http/json-shape.js')
    const MIB = 1024 * 1024
    const bodies = {
      whitespace: `[${' '.repeat(10 * MIB)}]`,
      'escaped quotes': `["${'\\"'.repeat(5 * MIB)}"]`,
      closes: ']'.repeat(10 * MIB),
    }
    for (const [name, body] of Object.entries(bodies)) {
      const started = performance.now()
      const refusal = checkJsonShape(body)
      // Generous: 2-7 ms measured here; the character-by-character scan took 100-240 ms.
      expect(performance.now() - started, name).toBeLessThan(200)
      if (name === 'escaped quotes') expect(refusal).toMatch(/more than 250000 escaped quotes/)
    }
    const answer = await send(post('/v1/moderate', `["${'\\"'.repeat(2 * MIB)}"]`, 'application/json'))
    expectRefused(answer, 400, 'invalid_request', /escaped quotes/)
  })
})
