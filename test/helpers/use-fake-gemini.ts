import { afterAll, beforeAll, beforeEach } from 'vitest'
import { startFakeGemini, type FakeGemini, type FakeGeminiOptions } from './fake-gemini.js'

/**
 * One fake Gemini per test file, reset before each test. The returned object is filled in
 * before the first test runs.
 *
 * @example
 * const gemini = useFakeGemini()
 * it('…', () => { gemini.script({ status: 429 }) })
 */
export function useFakeGemini(options: FakeGeminiOptions = {}): FakeGemini {
  const holder = {} as FakeGemini
  beforeAll(async () => {
    Object.assign(holder, await startFakeGemini(options))
  })
  afterAll(() => holder.close())
  beforeEach(() => holder.reset())
  return holder
}
