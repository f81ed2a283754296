import { describe, expect, it } from 'vitest'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'
import { heicBrandOnly, heicImage, makeImage, pngBomb, toBase64, toDataUrl } from '../helpers/images.js'
import { buildService } from '../helpers/service.js'

const gemini = useFakeGemini()

/** Asserts the error envelope and returns its message. */
async function expectError(res: Response, status: number, code: string): Promise<string> {
  expect(res.status).toBe(status)
  const body = (await res.json()) as { error: { code: string; message: string; request_id: string } }
  expect(body.error.code).toBe(code)
  expect(body.error.request_id).toBe(res.headers.get('x-request-id'))
  expect(body.error.message.length).toBeGreaterThan(0)
  return body.error.message
}

const post = (body: BodyInit, contentType?: string, path = '/v1/moderate') =>
  new Request(`http://localhost${path}`, { method: 'POST', body, headers: contentType ? { 'content-type': contentType } : {} })

describe('bad input gets a clear 4xx with the error envelope, never a verdict', () => {
  it('400 for malformed JSON', async () => {
    const { app } = await buildService({ gemini })
    expect(await expectError(await app.request(post('{"text": "unterminated', 'application/json')), 400, 'invalid_request')).toMatch(/JSON/)
  })

  it('400 for JSON of the wrong shape', async () => {
    const { moderate } = await buildService({ gemini })
    expect(await expectError(await moderate({ text: 42 }), 400, 'invalid_request')).toMatch(/^text:/)
    expect(await expectError(await moderate({ text: 'x', budget_ms: -5 }), 400, 'invalid_request')).toMatch(/budget_ms/)
    expect(await expectError(await moderate([1, 2]), 400, 'invalid_request')).toBeTruthy()
  })

  it('says what budget_ms must be in the caller\'s terms, not the validator\'s', async () => {
    const { moderate, app } = await buildService({ gemini })
    for (const budget of [1e20, 0, 1.5, '300']) {
      expect(await expectError(await moderate({ text: 'x', budget_ms: budget }), 400, 'invalid_request')).toBe('budget_ms: must be a positive whole number of milliseconds')
    }
    const openAi = await app.request('/v1/moderations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: 'x', budget_ms: 1e20 }) })
    expect(openAi.status).toBe(400)
    expect(JSON.stringify(await openAi.json())).not.toMatch(/9007199254740991|expected int/)
  })

  it('400 for an empty item: no text, blank text, or no images', async () => {
    const { moderate, app } = await buildService({ gemini })
    expect(await expectError(await moderate({}), 400, 'invalid_request')).toMatch(/nothing to moderate/)
    expect(await expectError(await moderate({ text: '   \n ' }), 400, 'invalid_request')).toMatch(/nothing to moderate/)
    expect(await expectError(await moderate({ images: [] }), 400, 'invalid_request')).toMatch(/nothing to moderate/)
    expect(await expectError(await app.request(post('', 'text/plain')), 400, 'invalid_request')).toMatch(/nothing/)
  })

  it('400 for an empty raw image body and an empty image entry', async () => {
    const { moderate, app } = await buildService({ gemini })
    expect(await expectError(await app.request(post(new Uint8Array(0), 'image/png')), 400, 'invalid_request')).toMatch(/empty/)
    expect(await expectError(await moderate({ images: [{ data: '' }] }), 400, 'invalid_request')).toMatch(/empty/)
  })

  it('400 for image data that is not base64', async () => {
    const { moderate } = await buildService({ gemini })
    expect(await expectError(await moderate({ images: [{ data: 'not*base64!' }] }), 400, 'invalid_request')).toMatch(/images\[0\]\.data/)
    expect(await expectError(await moderate({ images: [{ data: 'data:image/png,rawbytes' }] }), 400, 'invalid_request')).toMatch(/data URL/)
  })

  it('400 for an unknown policy, naming the ones that exist', async () => {
    const { moderate } = await buildService({ gemini })
    expect(await expectError(await moderate({ text: 'hi', policy: 'nope' }), 400, 'invalid_request')).toMatch(/unknown policy "nope".*default, strict/)
  })

  it('400 for a bad budget_ms in the query or a form', async () => {
    const { app } = await buildService({ gemini })
    expect(await expectError(await app.request(post('hello', 'text/plain', '/v1/moderate?budget_ms=fast')), 400, 'invalid_request')).toMatch(/budget_ms/)
    const form = new FormData()
    form.set('text', 'hi')
    form.set('budget_ms', '0')
    expect(await expectError(await app.request(post(form)), 400, 'invalid_request')).toMatch(/budget_ms/)
  })

  it('400 for a policy or budget_ms sent as a file in a form', async () => {
    const { app } = await buildService({ gemini })
    const form = new FormData()
    form.set('text', 'hi')
    form.set('policy', new Blob(['strict']), 'policy.txt')
    expect(await expectError(await app.request(post(form)), 400, 'invalid_request')).toMatch(/policy must be a form field/)
  })

  it('400 for text/plain that is not UTF-8', async () => {
    const { app } = await buildService({ gemini })
    expect(await expectError(await app.request(post(new Uint8Array([0xff, 0xfe, 0xfd]), 'text/plain')), 400, 'invalid_request')).toMatch(/UTF-8/)
  })

  it('415 for a content type the service does not take, and for none', async () => {
    const { app } = await buildService({ gemini })
    expect(await expectError(await app.request(post('<a/>', 'application/xml')), 415, 'unsupported_media_type')).toMatch(/application\/xml/)
    expect(await expectError(await app.request(post('%PDF-1.4', 'application/pdf')), 415, 'unsupported_media_type')).toBeTruthy()
    // A byte body gets no content type from fetch.
    expect(await expectError(await app.request(post(new TextEncoder().encode('hello'))), 415, 'unsupported_media_type')).toMatch(/\(none\)/)
  })

  it('413 for a body over the limit, from Content-Length, before reading it', async () => {
    const { app } = await buildService({ gemini, env: { MODERATION_MAX_BODY_BYTES: '1000' } })
    expect(await expectError(await app.request(post('x'.repeat(1001), 'text/plain')), 413, 'payload_too_large')).toMatch(/1000 bytes/)
  })

  it('413 for a streamed body that grows past the limit without a Content-Length', async () => {
    const { app } = await buildService({ gemini, env: { MODERATION_MAX_BODY_BYTES: '1000' } })
    let pulled = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++
        if (pulled > 100) controller.close()
        else controller.enqueue(new Uint8Array(100).fill(65))
      },
    })
    const request = new Request('http://localhost/v1/moderate', {
      method: 'POST',
      body: stream,
      headers: { 'content-type': 'text/plain' },
      duplex: 'half',
    } as RequestInit)
    await expectError(await app.request(request), 413, 'payload_too_large')
    // It stopped reading soon after the limit instead of draining 10 kB.
    expect(pulled).toBeLessThan(30)
  })

  it('413 for text over the length limit', async () => {
    const { moderate } = await buildService({ gemini, env: { MODERATION_MAX_TEXT_CHARS: '100' } })
    expect(await expectError(await moderate({ text: 'a'.repeat(101) }), 413, 'payload_too_large')).toMatch(/101 characters; the limit is 100/)
  })

  it('413 for too many images, counted before any is decoded', async () => {
    const { moderate, app } = await buildService({ gemini, env: { MODERATION_MAX_IMAGES: '2' } })
    const data = toBase64(await makeImage('png', 4, 4))
    expect(await expectError(await moderate({ images: [{ data }, { data }, { data }] }), 413, 'payload_too_large')).toMatch(/3 images; at most 2/)
    // Under the JSON value limit (each entry is two values), so the image count is what refuses it.
    const many = Array.from({ length: 3_000 }, () => ({ data: 'AA==' }))
    expect(await expectError(await moderate({ images: many }), 413, 'payload_too_large')).toMatch(/3000 images; at most 2/)
    const form = new FormData()
    for (let i = 0; i < 3; i++) form.append('image', new Blob([new Uint8Array([1])]), `${i}.png`)
    expect(await expectError(await app.request(post(form)), 413, 'payload_too_large')).toMatch(/3 images; at most 2/)
  })

  it('413 for one image over the per-image byte limit', async () => {
    const { moderate } = await buildService({ gemini, env: { MODERATION_MAX_IMAGE_BYTES: '2000' } })
    const big = await makeImage('png', 200, 200)
    expect(await expectError(await moderate({ images: [{ data: toBase64(big) }] }), 413, 'payload_too_large')).toMatch(/images\[0\]/)
  })

  it('422 for a disguised file: a PDF declared as image/png', async () => {
    const { moderate, app } = await buildService({ gemini })
    const pdf = new TextEncoder().encode('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF')
    expect(await expectError(await moderate({ images: [{ data: toDataUrl(pdf, 'image/png') }] }), 422, 'unprocessable_content')).toMatch(
      /application\/pdf/,
    )
    expect(await expectError(await app.request(post(pdf, 'image/png')), 422, 'unprocessable_content')).toMatch(/not a supported image/)
  })

  it('422 for bytes that are no known format at all', async () => {
    const { moderate } = await buildService({ gemini })
    const junk = new TextEncoder().encode('just some text pretending to be a JPEG')
    expect(await expectError(await moderate({ images: [{ data: toBase64(junk), mime_type: 'image/jpeg' }] }), 422, 'unprocessable_content')).toMatch(
      /match no known image format/,
    )
  })

  it('422 for a corrupt image: valid signature, broken data', async () => {
    const { moderate } = await buildService({ gemini })
    const png = await makeImage('png', 64, 64)
    const corrupt = png.slice()
    corrupt.fill(0x41, 40, corrupt.length - 20) // keep the signature and IHDR, wreck the pixel data
    expect(await expectError(await moderate({ images: [{ data: toBase64(corrupt) }] }), 422, 'unprocessable_content')).toMatch(/corrupt image\/png/)
  })

  it('422 for a truncated JPEG', async () => {
    const { moderate } = await buildService({ gemini })
    const jpeg = await makeImage('jpeg', 128, 128)
    const truncated = jpeg.slice(0, Math.floor(jpeg.length / 2))
    expect(await expectError(await moderate({ images: [{ data: toBase64(truncated) }] }), 422, 'unprocessable_content')).toMatch(/corrupt image\/jpeg/)
  })

  it('422 for a decompression bomb, refused from its header without decoding', async () => {
    const { moderate } = await buildService({ gemini })
    const bomb = pngBomb(60_000, 60_000) // 3.6 gigapixels in about 100 bytes
    expect(bomb.length).toBeLessThan(200)
    const started = performance.now()
    const message = await expectError(await moderate({ images: [{ data: toBase64(bomb) }] }), 422, 'unprocessable_content')
    expect(message).toMatch(/60000x60000 pixels; the limit is 50000000/)
    // Decoding 3.6 Gpx would take seconds and ~10 GB; the header check takes milliseconds.
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it('passes a HEIC it cannot decode here through unscaled, as image/heic, once its header is read', async () => {
    const { moderate } = await buildService({ gemini })
    const heic = heicImage(4032, 3024)
    const res = await moderate({ images: [{ data: toBase64(heic) }] })
    expect(res.status).toBe(200)
    const part = gemini.requests.at(-1)?.body.contents[0]?.parts[0]
    expect(part?.inlineData?.mimeType).toBe('image/heic')
    expect(part?.inlineData?.data).toBe(toBase64(heic))
  })

  it('422 for a HEIC whose header claims too many pixels', async () => {
    const { moderate } = await buildService({ gemini })
    expect(await expectError(await moderate({ images: [{ data: toBase64(heicImage(20_000, 20_000)) }] }), 422, 'unprocessable_content')).toMatch(
      /20000x20000 pixels/,
    )
  })

  it('422 for a HEIC brand with no readable header, instead of passing junk to the model', async () => {
    const { moderate } = await buildService({ gemini })
    expect(await expectError(await moderate({ images: [{ data: toBase64(heicBrandOnly()) }] }), 422, 'unprocessable_content')).toMatch(
      /corrupt image\/heic/,
    )
    expect(gemini.requests).toHaveLength(0)
  })
})
