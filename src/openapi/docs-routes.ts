import { Hono } from 'hono'
import type { AppEnv } from '../http/app-env.js'
import { buildOpenApiDocument } from './document.js'
import { renderReferencePage } from './reference-page.js'

/** GET /openapi.json and GET /docs, both built once when the app is. */
export function docsRoutes() {
  const app = new Hono<AppEnv>()
  const document = buildOpenApiDocument()
  const page = renderReferencePage(document)
  app.get('/openapi.json', (c) => c.json(document))
  app.get('/docs', (c) => c.html(page))
  return app
}
