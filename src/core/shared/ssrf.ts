/**
 * Which addresses a server-side fetch must never reach: loopback, private, link-local (cloud
 * metadata lives at 169.254.169.254), carrier-grade NAT, multicast, reserved, and their IPv6
 * twins, IPv4-mapped and NAT64 forms included. Pure: the fetchers call it on every address a
 * name resolves to, at connect time.
 */
const V4_BLOCKED: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
]

const BLOCKED_NAMES = new Set(['localhost', 'metadata', 'metadata.google.internal', 'instance-data', 'instance-data.ec2.internal'])

function v4ToNumber(ip: string): number | undefined {
  const parts = ip.split('.')
  if (parts.length !== 4) return undefined
  let value = 0
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined
    value = value * 256 + Number(part)
  }
  return value
}

function inV4Range(ip: number, [base, bits]: [string, number]): boolean {
  // Division, not bit shifts: shifts would turn 32-bit values negative.
  const block = 2 ** (32 - bits)
  return Math.floor(ip / block) === Math.floor(v4ToNumber(base)! / block)
}

/** The 8 groups of an IPv6 address as numbers, or undefined; a trailing dotted IPv4 is read too. */
function v6Groups(ip: string): number[] | undefined {
  let text = ip.toLowerCase().replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted) {
    const v4 = v4ToNumber(dotted[1]!)
    if (v4 === undefined) return undefined
    text = text.slice(0, -dotted[1]!.length) + `${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`
  }
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const head = halves[0] ? halves[0].split(':') : []
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : []
  const missing = 8 - head.length - tail.length
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...tail]
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined
  return groups.map((g) => parseInt(g, 16))
}

export function isForbiddenAddress(ip: string): boolean {
  const v4 = v4ToNumber(ip)
  if (v4 !== undefined) return V4_BLOCKED.some((range) => inV4Range(v4, range))
  const g = v6Groups(ip)
  if (!g) return true // not an address we can read: refuse rather than guess
  const embeddedV4 = () => `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`
  if (g.every((x) => x === 0)) return true // ::
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return true // ::1
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return isForbiddenAddress(embeddedV4()) // ::ffff:a.b.c.d
  if (g.slice(0, 6).every((x) => x === 0)) return true // deprecated IPv4-compatible ::a.b.c.d
  if (g.slice(0, 4).every((x) => x === 0) && g[4] === 0xffff && g[5] === 0) return isForbiddenAddress(embeddedV4()) // ::ffff:0:a.b.c.d, IPv4-translated
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return isForbiddenAddress(embeddedV4()) // NAT64
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return true // 64:ff9b:1::/48, local-use NAT64
  if (g[0] === 0x2002) return isForbiddenAddress(`${g[1]! >> 8}.${g[1]! & 0xff}.${g[2]! >> 8}.${g[2]! & 0xff}`) // 6to4
  if (g[0] === 0x2001 && g[1] === 0) return true // Teredo: the IPv4 inside is obfuscated; refuse the prefix
  if ((g[0]! & 0xffc0) === 0xfec0) return true // fec0::/10, deprecated site-local
  if ((g[0]! & 0xfe00) === 0xfc00) return true // fc00::/7 unique local (fd00:ec2::254 is AWS metadata)
  if ((g[0]! & 0xffc0) === 0xfe80) return true // fe80::/10 link-local
  if ((g[0]! & 0xff00) === 0xff00) return true // multicast
  if (g[0] === 0x2001 && g[1] === 0x0db8) return true // documentation
  return false
}

/** A host name that is refused before any lookup (loopback and cloud metadata names). */
export function isForbiddenHostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '')
  return BLOCKED_NAMES.has(name) || name.endsWith('.localhost') || name.endsWith('.internal')
}
