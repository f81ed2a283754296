import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import type { LookupFunction } from 'node:net'
import { isForbiddenAddress } from '../core/shared/ssrf.js'

export type Resolve = (host: string) => Promise<LookupAddress[]>

export const systemResolve: Resolve = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))))

/** Thrown (through the socket) when a name resolves to an address we must not reach. */
export class ForbiddenAddressError extends Error {
  override name = 'ForbiddenAddressError'
}

/**
 * A `lookup` for node:http(s) and node:net that refuses a name with any loopback, private,
 * link-local or metadata address. It runs as the socket connects, so the address checked is the
 * address connected to: no window for DNS rebinding between a check and the request.
 */
export function createGuardedLookup(resolve: Resolve = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const forbidden = addresses.find((a) => isForbiddenAddress(a.address))
        if (addresses.length === 0 || forbidden) {
          return callback(new ForbiddenAddressError(`${hostname} resolves to ${forbidden?.address ?? 'nothing'}, which is not allowed`), '', 4)
        }
        if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses)
        callback(null, addresses[0]!.address, addresses[0]!.family)
      },
      (error: Error) => callback(error, '', 4),
    )
  }
}
