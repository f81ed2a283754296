import { expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.js'
import { buildService } from '../helpers/service.js'

it('warns that MODERATION_BREAKER_FAILURES (consecutive failures) is no longer read, names what replaced it, and still starts', async () => {
  const { logs } = await buildService({ env: { MODERATION_BREAKER_FAILURES: '5' } })
  expect(logs.find((line) => line.level === 'warn' && /MODERATION_BREAKER_FAILURES/.test(line.msg))?.msg).toMatch(/MODERATION_BREAKER_MIN_CALLS and MODERATION_BREAKER_FAILURE_RATE/)
  expect(parseConfig({})).toMatchObject({ MODERATION_BREAKER_FAILURE_RATE: 0.5, MODERATION_BREAKER_MIN_CALLS: 10, MODERATION_BREAKER_WINDOW_MS: 10_000 })
  expect(() => parseConfig({ MODERATION_BREAKER_FAILURE_RATE: '50' })).toThrow(/MODERATION_BREAKER_FAILURE_RATE/)
})

it('refuses a per-client share of the in-flight places that makes no sense: without API keys (every caller one client), or over the cap itself', () => {
  expect(() => parseConfig({ MODERATION_MAX_IN_FLIGHT_PER_CLIENT: '8' })).toThrow(/MODERATION_MAX_IN_FLIGHT_PER_CLIENT: needs MODERATION_API_KEYS/)
  expect(() => parseConfig({ MODERATION_API_KEYS: 'a,b', MODERATION_MAX_IN_FLIGHT: '16', MODERATION_MAX_IN_FLIGHT_PER_CLIENT: '32' })).toThrow(/32 is over MODERATION_MAX_IN_FLIGHT \(16\)/)
  expect(parseConfig({ MODERATION_API_KEYS: 'a,b', MODERATION_MAX_IN_FLIGHT_PER_CLIENT: '8' })).toMatchObject({ MODERATION_MAX_IN_FLIGHT_PER_CLIENT: 8 })
  expect(parseConfig({}).MODERATION_MAX_IN_FLIGHT_PER_CLIENT).toBeUndefined()
})
