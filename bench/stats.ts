/** Nearest-rank percentiles over a list of millisecond samples. */
export type Stats = { n: number; p50: number; p99: number; mean: number; max: number }

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((x, y) => x - y)
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! // nearest rank
  return { n: s.length, p50: at(0.5), p99: at(0.99), mean: s.reduce((sum, v) => sum + v, 0) / s.length, max: s.at(-1)! }
}

export const r2 = (v: number) => Math.round(v * 100) / 100
export const round = (s: Stats) => ({ n: s.n, p50: r2(s.p50), p99: r2(s.p99), mean: r2(s.mean), max: r2(s.max) })
