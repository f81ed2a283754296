import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { buildService } from '../helpers/service.js'

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`

describe('GET /playground', () => {
  it('serves one self-contained page whose CSP allows its own inline script and style and nothing else', async () => {
    const { app } = await buildService({ env: { MODERATION_API_KEYS: 'k' } })
    // Public, like /docs: the key is typed into the page, not needed to load it.
    const res = await app.request('/playground')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await res.text()
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!)
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!)
    expect([scripts.length, styles.length]).toEqual([1, 1])
    expect(res.headers.get('content-security-policy')).toBe(
      `default-src 'none'; script-src ${hash(scripts[0]!)}; style-src ${hash(styles[0]!)}; img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    )
    // Nothing from elsewhere (works offline), no markup from strings, no inline style attributes
    // or handlers the CSP would refuse.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//)
    expect(html).not.toMatch(/\s(style|on[a-z]+)=/)
    expect(scripts[0]).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/)
    // The app's own secure headers still apply.
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
  })

  it('is where / sends a browser, and /try; other clients asking / get the links', async () => {
    const { app } = await buildService()
    const browser = await app.request('/', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
    expect([browser.status, browser.headers.get('location'), browser.headers.get('vary')]).toEqual([302, '/playground', 'Accept'])
    const tryIt = await app.request('/try')
    expect([tryIt.status, tryIt.headers.get('location')]).toEqual([302, '/playground'])
    const client = await app.request('/', { headers: { accept: 'application/json' } })
    expect(await client.json()).toEqual({ service: 'moderation-service', playground: '/playground', docs: '/docs', openapi: '/openapi.json', health: '/healthz' })
  })
})
