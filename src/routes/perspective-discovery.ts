import { Hono } from 'hono'
import { PERSPECTIVE_API_VERSION, perspectiveDiscoveryDocument } from '../compat/perspective-discovery.js'
import type { AppEnv } from '../http/app-env.js'

/**
 * GET /$discovery/rest?version=v1alpha1: Comment Analyzer's discovery document, public like
 * /openapi.json. Its rootUrl is MODERATION_PUBLIC_URL when set (behind a proxy the request's own
 * scheme and host are the proxy's inside), else the origin the request came to (then never
 * cached: set MODERATION_PUBLIC_URL in production).
 */
export function perspectiveDiscoveryRoutes({ publicUrl }: { publicUrl?: string | undefined }) {
  const app = new Hono<AppEnv>()
  app.get('/$discovery/rest', (c) => {
    const version = c.req.query('version') ?? PERSPECTIVE_API_VERSION
    if (version !== PERSPECTIVE_API_VERSION) {
      // Google's error shape, as the discovery clients read it (a 404 makes them try the next URL).
      const message = `no discovery document for commentanalyzer ${version}: only ${PERSPECTIVE_API_VERSION}`
      const details = [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'not_found', metadata: { request_id: c.get('requestId') } }]
      return c.json({ error: { code: 404, message, status: 'NOT_FOUND', details } }, 404)
    }
    if (publicUrl) {
      c.header('cache-control', 'public, max-age=300')
      return c.json(perspectiveDiscoveryDocument(publicUrl))
    }
    // Built from the Host header: a cache in front that keys on its own name would hand every
    // client a document pointing wherever one request's Host said (comments and keys with it).
    c.header('cache-control', 'no-store')
    c.header('vary', 'Host')
    return c.json(perspectiveDiscoveryDocument(`${new URL(c.req.url).origin}/`))
  })
  return app
}
