import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LookupFunction } from 'node:net'
import type { ImageFetcher } from '../core/images/image-types.js'
import { problem } from '../core/shared/problem.js'
import { isForbiddenAddress, isForbiddenHostName } from '../core/shared/ssrf.js'
import { createGuardedLookup, ForbiddenAddressError, systemResolve, type Resolve } from '../net/guarded-lookup.js'

export interface NodeImageFetcherOptions {
  /** Hosts (names or IPs, exact) exempt from the address guard: tests, private networks. */
  allowedHosts?: string[]
  /** Resolves a name to all its addresses; the system resolver by default. */
  resolve?: Resolve
  maxRedirects?: number
}

/**
 * Fetches image URLs on Node. The guard runs inside the socket's own DNS lookup, so the address
 * checked is the address connected to (no window for DNS rebinding): a name with any loopback,
 * private, link-local or metadata address is refused. Redirects are followed only on the same
 * host, at most `maxRedirects`; bodies are capped at `maxBytes` while streaming.
 *
 * @example
 * const fetcher = createNodeImageFetcher({ allowedHosts: config.MODERATION_FETCH_ALLOWED_HOSTS })
 */
export function createNodeImageFetcher({ allowedHosts = [], resolve = systemResolve, maxRedirects = 3 }: NodeImageFetcherOptions = {}): ImageFetcher {
  const allowed = new Set(allowedHosts.map((host) => host.toLowerCase()))

  const guardedLookup = createGuardedLookup(resolve)

  return {
    async fetch(url, { maxBytes, signal, label }) {
      let target: URL
      try {
        target = new URL(url)
      } catch {
        return problem('invalid_request', `${label} is not a URL`)
      }
      const origin = target.host
      for (let hop = 0; hop <= maxRedirects; hop++) {
        if (target.protocol !== 'http:' && target.protocol !== 'https:') return problem('invalid_request', `${label}: only http and https URLs are fetched`)
        const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase()
        const exempt = allowed.has(host)
        if (!exempt && (isForbiddenHostName(host) || (/^[\d.]+$|:/.test(host) && isForbiddenAddress(host)))) {
          return problem('unprocessable_content', `${label}: ${host} is a loopback, private, link-local or metadata address; not fetched`)
        }
        let response: IncomingMessage
        try {
          response = await get(target, exempt ? undefined : guardedLookup, signal)
        } catch (error) {
          if (error instanceof ForbiddenAddressError) return problem('unprocessable_content', `${label}: ${error.message}; not fetched`)
          return problem('unprocessable_content', `${label} could not be fetched: ${(error as Error).message}`)
        }
        const status = response.statusCode ?? 0
        if (status >= 300 && status < 400 && response.headers.location) {
          response.resume()
          let next: URL
          try {
            next = new URL(response.headers.location, target)
          } catch {
            return problem('unprocessable_content', `${label} redirects to an invalid location`)
          }
          if (next.host !== origin) return problem('unprocessable_content', `${label} redirects to another host (${next.host}); not followed`)
          target = next
          continue
        }
        if (status < 200 || status >= 300) {
          response.resume()
          return problem('unprocessable_content', `${label} could not be fetched: HTTP ${status}`)
        }
        let body: Uint8Array | undefined
        try {
          body = await readCapped(response, maxBytes)
        } catch (error) {
          return problem('unprocessable_content', `${label} could not be fetched: ${(error as Error).message}`)
        }
        if (!body) return problem('payload_too_large', `${label} is larger than ${maxBytes} bytes`)
        return { ok: true, value: { bytes: body, declaredType: response.headers['content-type'], label } }
      }
      return problem('unprocessable_content', `${label} redirects more than ${maxRedirects} times`)
    },
  }
}

function get(url: URL, lookup: LookupFunction | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', signal, ...(lookup ? { lookup } : {}), headers: { accept: 'image/*' } }, resolve)
    req.on('error', reject)
    req.end()
  })
}

/** The body, or undefined as soon as it passes `maxBytes` (the rest is not read). */
async function readCapped(response: IncomingMessage, maxBytes: number): Promise<Uint8Array | undefined> {
  if (Number(response.headers['content-length'] ?? 0) > maxBytes) {
    response.destroy()
    return undefined
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) {
      response.destroy()
      return undefined
    }
    chunks.push(chunk)
  }
  const joined = Buffer.concat(chunks)
  return new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength)
}
