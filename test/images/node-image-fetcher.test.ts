import { beforeAll, describe, expect, it } from 'vitest'
import { createNodeImageFetcher } from '../../src/images/node-image-fetcher.js'
import { startImageServer } from '../helpers/image-server.js'

let origin: Awaited<ReturnType<typeof startImageServer>>
beforeAll(async () => {
  origin = await startImageServer()
})

const options = (maxBytes = 1_000_000) => ({ maxBytes, signal: new AbortController().signal, label: 'input[0].image_url' })

describe('image URL fetching (Node), with 127.0.0.1 allowed as a test origin', () => {
  const fetcher = () => createNodeImageFetcher({ allowedHosts: ['127.0.0.1'] })

  it('fetches an image', async () => {
    const result = await fetcher().fetch(`${origin.base}/ok.png`, options())
    expect(result.ok && Buffer.compare(Buffer.from(result.value.bytes), Buffer.from(origin.png))).toBe(0)
  })

  it('follows a redirect on the same host, refuses one to another host', async () => {
    expect((await fetcher().fetch(`${origin.base}/same-host`, options())).ok).toBe(true)
    expect(await fetcher().fetch(`${origin.base}/other-host`, options())).toMatchObject({ ok: false, problem: { message: expect.stringMatching(/redirects to another host \(localhost:\d+\)/) } })
  })

  it('stops reading past the size cap', async () => {
    expect(await fetcher().fetch(`${origin.base}/big.png`, options(1000))).toMatchObject({ ok: false, problem: { code: 'payload_too_large' } })
  })

  it('reports an HTTP error and aborts on the signal', async () => {
    expect(await fetcher().fetch(`${origin.base}/missing`, options())).toMatchObject({ ok: false, problem: { message: expect.stringMatching(/HTTP 404/) } })
    const controller = new AbortController()
    const pending = fetcher().fetch(`${origin.base}/slow`, { ...options(), signal: controller.signal })
    controller.abort()
    expect((await pending).ok).toBe(false)
  })

  it('answers an unparsable redirect and a connection dropped mid-body with a problem, not a crash', async () => {
    expect(await fetcher().fetch(`${origin.base}/bad-redirect`, options())).toMatchObject({ ok: false, problem: { code: 'unprocessable_content' } })
    expect(await fetcher().fetch(`${origin.base}/reset`, options())).toMatchObject({ ok: false, problem: { code: 'unprocessable_content', message: expect.stringMatching(/could not be fetched/) } })
  })

  it('refuses schemes other than http(s)', async () => {
    expect(await fetcher().fetch('file:///etc/passwd', options())).toMatchObject({ ok: false, problem: { message: expect.stringMatching(/only http and https/) } })
  })
})

describe('SSRF guard when fetching (nothing allowed)', () => {
  const guarded = createNodeImageFetcher()

  it.each([
    ['loopback literal', (port: number) => `http://127.0.0.1:${port}/ok.png`],
    ['localhost', (port: number) => `http://localhost:${port}/ok.png`],
    ['IPv6 loopback', (port: number) => `http://[::1]:${port}/ok.png`],
    ['IPv4-mapped loopback', (port: number) => `http://[::ffff:127.0.0.1]:${port}/ok.png`],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/'],
    ['10/8', () => 'http://10.0.0.1/x.png'],
    ['172.16/12', () => 'http://172.16.5.4/x.png'],
    ['192.168/16', () => 'http://192.168.1.1/x.png'],
    ['metadata name', () => 'http://metadata.google.internal/computeMetadata/v1/'],
  ])('refuses %s', async (_name, url) => {
    const result = await guarded.fetch(url(origin.port), options())
    expect(result).toMatchObject({ ok: false, problem: { code: 'unprocessable_content', message: expect.stringMatching(/not fetched/) } })
  })

  it('refuses a public-looking name that resolves to a private address, checked at connect time', async () => {
    const rebinding = createNodeImageFetcher({ resolve: async () => [{ address: '10.0.0.5', family: 4 }] })
    expect(await rebinding.fetch('http://images.example.com/cat.png', options())).toMatchObject({
      ok: false,
      problem: { message: expect.stringMatching(/images\.example\.com resolves to 10\.0\.0\.5, which is not allowed/) },
    })
    const mixed = createNodeImageFetcher({ resolve: async () => [{ address: '93.184.216.34', family: 4 }, { address: '127.0.0.1', family: 4 }] })
    expect((await mixed.fetch('http://images.example.com/cat.png', options())).ok).toBe(false)
  })

  it('connects to the address it checked: a name resolving to loopback never reaches the local server', async () => {
    const lying = createNodeImageFetcher({ resolve: async () => [{ address: '127.0.0.1', family: 4 }] })
    expect(await lying.fetch(`http://origin.test:${origin.port}/ok.png`, options())).toMatchObject({ ok: false, problem: { message: expect.stringMatching(/resolves to 127\.0\.0\.1/) } })
  })
})
