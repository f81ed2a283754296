import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it). */
export const CHROMIUM = '/usr/bin/chromium'
/** Debian's Python, where `apt-get install python3-googleapi` puts Google's discovery client (.ci/run installs it). */
export const DEBIAN_PYTHON = '/usr/bin/python3'

/**
 * Whether a tool from Debian's packages is here. Without it the tests that need it are skipped
 * with a one-line reason (a newcomer's laptop); with CI set they fail instead: .ci/run installs it.
 */
function needs(available: boolean, what: string, install: string): boolean {
  if (available) return true
  if (process.env.CI) throw new Error(`${what} is missing, and CI must run the tests that need it (${install})`)
  console.warn(`skipping: ${what} is missing (${install})`)
  return false
}

export const needsChromium = () => needs(existsSync(CHROMIUM), CHROMIUM, 'apt-get install chromium')

export const needsGoogleApiClient = () =>
  needs(
    existsSync(DEBIAN_PYTHON) && spawnSync(DEBIAN_PYTHON, ['-c', 'import googleapiclient.discovery'], { stdio: 'ignore' }).status === 0,
    `googleapiclient for ${DEBIAN_PYTHON}`,
    'apt-get install python3-googleapi',
  )
