import { describe, expect, it } from 'vitest'
import { createJsonLogger } from '../../src/logging/json-logger.js'

describe('the JSON logger', () => {
  it('writes lines at and above its level, and says which levels it writes', () => {
    const lines: string[] = []
    const logger = createJsonLogger({ level: 'warn', write: (line) => lines.push(line) })
    logger.info('dropped', { a: 1 })
    logger.warn('kept', { a: 2 })
    expect(lines.map((line) => JSON.parse(line))).toEqual([expect.objectContaining({ level: 'warn', msg: 'kept', a: 2 })])
    expect([logger.writes?.('debug'), logger.writes?.('info'), logger.writes?.('warn'), logger.writes?.('error')]).toEqual([false, false, true, true])
    const silent = createJsonLogger({ level: 'silent', write: (line) => lines.push(line) })
    expect(silent.writes?.('error')).toBe(false)
  })
})
