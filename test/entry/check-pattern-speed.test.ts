import { describe, expect, it } from 'vitest'
import { compilePolicy, loadPolicies } from '../../src/core/moderation/policy.js'
import { findSlowPatterns } from '../../src/entry/check-pattern-speed.js'
import { shippedPolicies } from '../helpers/service.js'

const withPattern = (pattern: string) =>
  `description: test\ncategories:\n  hate:\n    description: hate\n    review_at: 0.5\n    block_at: 0.8\nlocal:\n  review:\n    hate:\n      - '${pattern}'\n`

describe('policy patterns that backtrack are refused at start', () => {
  it('passes the shipped policies', async () => {
    expect(await findSlowPatterns(await shippedPolicies())).toEqual([])
  })

  it('refuses quadratic and exponential patterns, even one that would run for ever, naming the policy, the list and the pattern', async () => {
    const files = {
      // The e-mail pattern strict shipped with: 50,000 characters of ".a" took it 5 s.
      'quadratic.yaml': withPattern('/\\b[\\w.+-]+@[\\w-]+\\.[\\w.]+\\b/'),
      'exponential.yaml': withPattern('/(a+)+b/'),
      // Grows by about 1.6 a character: past 48 characters it would not finish for hours.
      'forever.yaml': withPattern('/^(a|aa)+$/'),
      'fine.yaml': withPattern('/(?<![\\w.+-])[\\w.+-]+@[\\w-]+\\.[\\w.]+\\b/'),
      // Slow only after its own literals ("ki", then a run of "l": 50,000 characters took 9.8 s),
      // and only on another script (a run of Cyrillic letters: 4.7 s on 20,000).
      'obfuscated.yaml': withPattern('/\\bk+i+l+l+\\s*(?:y+o+u+r*\\s*)?s+e+l+f+/'),
      'scripts.yaml': withPattern('/\\p{Script=Cyrillic}+\\p{Script=Latin}/'),
    }
    const started = performance.now()
    const slow = await findSlowPatterns(await loadPolicies(files, 'fine'))
    expect(slow.map((line) => line.slice(0, line.indexOf(':')))).toEqual(['policy exponential', 'policy forever', 'policy obfuscated', 'policy quadratic', 'policy scripts'])
    expect(slow[0]).toMatch(/^policy exponential: local\.review\.hate: pattern \/\(a\+\)\+b\/ backtracks/)
    // Named by the probe that showed it, or (on a loaded machine) by the time limit: refused either way.
    const shown = (probe: RegExp) => new RegExp(`backtracks: (?:${probe.source}|its probes did not finish)`)
    expect(slow[2]).toMatch(shown(/\d+ ms on "ki" and 8192 characters of "l"/))
    expect(slow[3]).toMatch(shown(/\d+ ms on "" and 8192 characters of /))
    expect(slow[4]).toMatch(shown(/.*characters of "д"/))
    expect(performance.now() - started).toBeLessThan(15_000)
  })

  it('compiles the policy itself regardless (the check is the entry\'s, before it serves)', async () => {
    await expect(compilePolicy('quadratic.yaml', withPattern('/\\b[\\w.+-]+@[\\w-]+\\.[\\w.]+\\b/'))).resolves.toBeTruthy()
  })
})
