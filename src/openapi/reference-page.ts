import type { OpenApiDocument } from './document.js'

const escape = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
const code = (value: unknown) => `<pre><code>${escape(JSON.stringify(value, null, 2))}</code></pre>`

interface Operation {
  summary?: string
  description?: string
  security?: Record<string, unknown>[]
  parameters?: { name: string; in: string; description?: string }[]
  requestBody?: { content: Record<string, { schema: unknown }> }
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>
}

function schemaLabel(schema: unknown): string {
  const target = (schema as { $ref?: string } | undefined)?.$ref
  return target ? `<a href="#schema-${escape(target.split('/').at(-1) ?? '')}">${escape(target.split('/').at(-1) ?? '')}</a>` : ''
}

function operation(path: string, method: string, op: Operation): string {
  const auth = op.security?.length ? op.security.map((s) => Object.keys(s).join(', ')).join(' or ') : 'none'
  const body = op.requestBody
    ? `<h4>Request body</h4><ul>${Object.entries(op.requestBody.content)
        .map(([type, { schema }]) => `<li><code>${escape(type)}</code> ${schemaLabel(schema) || code(schema)}</li>`)
        .join('')}</ul>`
    : ''
  // Grouped by where they go: the path, the query string, the headers.
  const params = (['path', 'query', 'header'] as const)
    .map((place) => {
      const here = op.parameters?.filter((p) => p.in === place) ?? []
      const title = { path: 'Path', query: 'Query', header: 'Headers' }[place]
      return here.length ? `<h4>${title}</h4><ul>${here.map((p) => `<li><code>${escape(p.name)}</code>: ${escape(p.description ?? '')}</li>`).join('')}</ul>` : ''
    })
    .join('')
  const responses = Object.entries(op.responses)
    .map(([status, r]) => {
      const schemas = Object.values(r.content ?? {}).map(({ schema }) => schemaLabel(schema)).filter(Boolean)
      return `<li><strong>${escape(status)}</strong> ${escape(r.description)} ${schemas.join(', ')}</li>`
    })
    .join('')
  return `<section id="${escape(`${method}-${path}`)}"><h3><span class="method">${method.toUpperCase()}</span> <code>${escape(path)}</code></h3>
<p><strong>${escape(op.summary ?? '')}</strong></p><p>${escape(op.description ?? '')}</p><p>Authentication: ${escape(auth)}</p>${params}${body}<h4>Responses</h4><ul>${responses}</ul></section>`
}

/**
 * The human-readable reference, rendered on the server from the OpenAPI document: no script,
 * nothing fetched from elsewhere.
 */
export function renderReferencePage(document: OpenApiDocument): string {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods as Record<string, Operation>).map(([method, op]) => operation(path, method, op)),
  )
  const webhooks = Object.entries(document.webhooks).flatMap(([name, methods]) =>
    Object.entries(methods as Record<string, Operation>).map(([method, op]) => operation(name, method, op)),
  )
  const schemas = Object.entries(document.components.schemas)
    .map(([name, schema]) => `<section id="schema-${escape(name)}"><h3>${escape(name)}</h3>${code(schema)}</section>`)
    .join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(document.info.title)}: API reference</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{font-family:ui-monospace,monospace}pre{background:#f6f8fa;padding:.75rem;overflow:auto;max-height:28rem}
section{border-top:1px solid #ddd;padding:.5rem 0}.method{background:#0b5;color:#fff;padding:0 .4rem;border-radius:3px;font-size:.8em}</style>
</head><body>
<h1>${escape(document.info.title)} <small>${escape(document.info.version)}</small></h1>
<p>${escape(document.info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${escape(document.openapi)}).</p>
<h2>Endpoints</h2>${operations.join('\n')}
<h2>Webhooks</h2><p>What the service POSTs to a <code>callback_url</code>.</p>${webhooks.join('\n')}
<h2>Schemas</h2>${schemas}
</body></html>`
}
