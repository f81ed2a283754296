import { expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../src/config.js'

it('refuses MODERATION_BREAKER_FAILURES (consecutive failures, no longer read) and names the settings that replaced it', () => {
  expect(() => parseConfig({ MODERATION_BREAKER_FAILURES: '5' })).toThrow(ConfigError)
  expect(() => parseConfig({ MODERATION_BREAKER_FAILURES: '5' })).toThrow(/MODERATION_BREAKER_MIN_CALLS and MODERATION_BREAKER_FAILURE_RATE/)
  expect(parseConfig({})).toMatchObject({ MODERATION_BREAKER_FAILURE_RATE: 0.5, MODERATION_BREAKER_MIN_CALLS: 10, MODERATION_BREAKER_WINDOW_MS: 10_000 })
  expect(() => parseConfig({ MODERATION_BREAKER_FAILURE_RATE: '50' })).toThrow(/MODERATION_BREAKER_FAILURE_RATE/)
})
