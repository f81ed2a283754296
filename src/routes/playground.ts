import { Hono } from 'hono'
import type { AppEnv } from '../http/app-env.js'
import { renderPlaygroundPage } from '../playground/page.js'

/**
 * GET /playground: a page to try the service in a browser. It is public, like /docs; the
 * requests it makes go to /v1 with the key the user types. GET / sends a browser there (other
 * clients get the links as JSON); GET /try is a short name for it.
 */
export function playgroundRoutes() {
  const app = new Hono<AppEnv>()
  // Rendered (its CSP hashes computed) on the first request, then kept: once per isolate on Workers.
  let page: ReturnType<typeof renderPlaygroundPage> | undefined
  app.get('/playground', async (c) => {
    const { html, csp } = await (page ??= renderPlaygroundPage())
    return c.html(html, 200, { 'Content-Security-Policy': csp, 'Cache-Control': 'no-cache' })
  })
  app.get('/try', (c) => c.redirect('/playground', 302))
  app.get('/', (c) => {
    c.header('Vary', 'Accept')
    if (c.req.header('accept')?.includes('text/html')) return c.redirect('/playground', 302)
    return c.json({ service: 'moderation-service', playground: '/playground', docs: '/docs', openapi: '/openapi.json', health: '/healthz' })
  })
  return app
}
