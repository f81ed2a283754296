import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

export interface KeepAliveFetchOptions {
  /** Sockets kept per host; a model call holds one for its length. */
  maxSockets?: number
}

/**
 * `fetch` for the model clients on Node, over node:http(s) with keep-alive agents. Node 20's
 * built-in fetch (undici: a web Request, streams, a structured clone per call) cost about 1 ms
 * of CPU a model call, a plain keep-alive POST about 0.3 ms (issue 12), and a burst pays it per
 * call. The SDK still builds and reads Gemini's wire format; only the transport changes. Bodies
 * are strings or bytes (what the SDK sends); the answer is read whole, as the SDK reads it.
 *
 * @example
 * const fetch = createKeepAliveFetch()
 * createModelClients(config, { vertexCredentials: true, fetch })
 */
export function createKeepAliveFetch({ maxSockets = 256 }: KeepAliveFetchOptions = {}): typeof fetch {
  const agents = { 'http:': new HttpAgent({ keepAlive: true, maxSockets }), 'https:': new HttpsAgent({ keepAlive: true, maxSockets }) }
  return function keepAliveFetch(input, init = {}) {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const protocol = url.protocol === 'https:' ? 'https:' : url.protocol === 'http:' ? 'http:' : undefined
    if (!protocol) return Promise.reject(new TypeError(`unsupported protocol ${url.protocol}`))
    const signal = init.signal ?? undefined
    if (signal?.aborted) return Promise.reject(abortError(signal))
    const body = init.body
    if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      return Promise.reject(new TypeError('keepAliveFetch sends string or byte bodies only'))
    }
    return new Promise<Response>((resolve, reject) => {
      const send = protocol === 'https:' ? httpsRequest : httpRequest
      const req = send(url, { method: init.method ?? 'GET', headers: headerObject(init.headers), agent: agents[protocol] }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          signal?.removeEventListener('abort', onAbort)
          resolve(new Response(res.statusCode === 204 || res.statusCode === 304 ? null : Buffer.concat(chunks), { status: res.statusCode, statusText: res.statusMessage, headers: responseHeaders(res.headers) }))
        })
        res.on('error', fail)
      })
      function fail(error: unknown) {
        signal?.removeEventListener('abort', onAbort)
        reject(signal?.aborted ? abortError(signal) : error)
      }
      // An aborted call's socket is destroyed: HTTP/1.1 cannot reuse it mid-answer.
      const onAbort = () => req.destroy()
      signal?.addEventListener('abort', onAbort, { once: true })
      req.on('error', fail)
      req.end(body ?? undefined)
    })
  }
}

function headerObject(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {}
  new Headers(headers).forEach((value, name) => (out[name] = value))
  return out
}

function responseHeaders(headers: IncomingHttpHeaders): Headers {
  const out = new Headers()
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const item of value) out.append(name, item)
    else if (value !== undefined) out.set(name, value)
  }
  return out
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError')
}
