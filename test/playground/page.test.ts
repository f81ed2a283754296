import { mkdirSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startEntry, stopEntry, type StartedEntry } from '../helpers/entry.js'
import { makeImage, toBase64 } from '../helpers/images.js'
import { CHROMIUM, needsChromium } from '../helpers/system-tools.js'

// The playground in a real headless Chromium (Debian's), driven by playwright-core, against the
// real Node entry on loopback: no Gemini key (the local classifier answers), and once with a key.
const available = needsChromium()
const ARTIFACTS = 'test-artifacts'
const TEXT = 'go back to your own country'

let browser: Browser
let open: StartedEntry
let keyed: StartedEntry
let png: Uint8Array<ArrayBuffer>
let dropped: Uint8Array<ArrayBuffer>

beforeAll(async () => {
  if (!available) return
  ;[browser, open, keyed, png, dropped] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] }),
    startEntry({ MODERATION_WARMUP_REQUESTS: '0' }),
    startEntry({ MODERATION_WARMUP_REQUESTS: '0', MODERATION_API_KEYS: 'browser-key' }),
    makeImage('png', 64, 48),
    makeImage('png', 40, 40),
  ])
}, 60_000)

afterAll(async () => {
  await Promise.all([browser?.close(), open && stopEntry(open), keyed && stopEntry(keyed)])
})

/** A new page that records console errors, uncaught exceptions and CSP refusals. */
async function newPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } })
  const problems: string[] = []
  page.on('console', (message) => void (message.type() === 'error' && problems.push(message.text())))
  page.on('pageerror', (error) => void problems.push(error.message))
  return { page, problems }
}

const text = async (page: Page, selector: string) => (await page.textContent(selector))?.trim() ?? ''
const shown = (page: Page) => page.waitForSelector('#verdict:not([hidden])')
const withoutPerRequest = ({ id, latency_ms, ...rest }: Record<string, unknown>) => (expect(id).toBeTypeOf('string'), expect(latency_ms).toBeTypeOf('number'), rest)

/** Sends the form and waits for this request's verdict (not the one shown before). */
async function send(page: Page): Promise<Record<string, unknown>> {
  const before = await text(page, '#ids')
  await page.click('#send')
  await shown(page)
  await page.waitForFunction((previous) => document.getElementById('ids')!.textContent !== previous, before)
  return JSON.parse(await text(page, '#raw')) as Record<string, unknown>
}

describe.runIf(available)('the playground in headless Chromium', () => {
  it('judges a typed text, then picked and dropped images, shows what the API answers, and the curl for it', async () => {
    const { page, problems } = await newPage()
    // A browser opening the service lands on the playground.
    const response = await page.goto(`${open.url}/`)
    expect(page.url()).toBe(`${open.url}/playground`)
    expect(response?.headers()['content-security-policy']).toMatch(/default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-[^']+'/)
    // Policies come from GET /v1/policies, the default one selected.
    await page.waitForFunction(() => document.querySelectorAll('#policy option').length >= 2)
    expect(await page.$$eval('#policy option', (options) => options.map((o) => (o as HTMLOptionElement).value))).toEqual(['default', 'strict'])
    expect(await page.inputValue('#policy')).toBe('default')
    expect(await page.getAttribute('#budget', 'placeholder')).toMatch(/^\d+ \(the policy default\)$/)

    await page.fill('#text', TEXT)
    await page.fill('#budget', '700')
    expect(await text(page, '#curl')).toBe(
      `curl -s '${open.url}/v1/moderate' \\\n  -H 'content-type: application/json' \\\n  -d '{"text":"${TEXT}","policy":"default","budget_ms":700}'`,
    )
    const verdict = await send(page)
    // The raw JSON is the API's answer to the same request (but its id and timing).
    const api = (await (await fetch(`${open.url}/v1/moderate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: TEXT, policy: 'default', budget_ms: 700 }) })).json()) as Record<string, unknown>
    expect(withoutPerRequest(verdict)).toEqual(withoutPerRequest(api))
    expect(verdict).toMatchObject({ source: 'local', budget_ms: 700, policy: 'default' })
    // What the page shows is that verdict.
    expect(await text(page, '#action')).toBe(verdict.action)
    expect(await page.getAttribute('#action', 'class')).toBe(`badge ${verdict.action}`)
    expect(await text(page, '#source')).toBe('local')
    expect(await text(page, '#fallback')).toBe('none')
    expect(await text(page, '#confidence')).toBe((verdict.confidence as number).toFixed(2))
    expect(await page.$$eval('#categories .chip', (chips) => chips.map((c) => c.textContent))).toEqual(verdict.categories)
    expect(await text(page, '#latency')).toMatch(new RegExp(`^${verdict.latency_ms} ms of a 700 ms budget \\(\\d+%\\): within budget$`))
    expect(await page.$eval('#latency-meter', (m) => [(m as HTMLMeterElement).max, (m as HTMLMeterElement).value])).toEqual([700, verdict.latency_ms])
    const scores = await page.$$eval('#scores-body tr', (rows) => rows.map((row) => [(row as HTMLTableRowElement).cells[0]!.textContent, Number((row as HTMLTableRowElement).cells[1]!.textContent)]))
    expect(Object.fromEntries(scores)).toEqual(verdict.local_scores)

    // One image picked with the file input, one dropped on the drop zone: sent as multipart.
    await page.setInputFiles('#files', { name: 'avatar.png', mimeType: 'image/png', buffer: Buffer.from(png) })
    const transfer = await page.evaluateHandle((base64) => {
      const transfer = new DataTransfer()
      transfer.items.add(new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], 'dropped.png', { type: 'image/png' }))
      return transfer
    }, toBase64(dropped))
    await page.dispatchEvent('#drop', 'drop', { dataTransfer: transfer })
    expect(await page.$$eval('#thumbs img', (imgs) => imgs.map((img) => [(img as HTMLImageElement).alt, (img as HTMLImageElement).naturalWidth]))).toEqual([
      ['avatar.png', 64],
      ['dropped.png', 40],
    ])
    expect(await text(page, '#curl')).toBe(
      `curl -s '${open.url}/v1/moderate' \\\n  --form-string 'text=${TEXT}' \\\n  -F 'image=@avatar.png' \\\n  -F 'image=@dropped.png' \\\n  --form-string 'policy=default' \\\n  --form-string 'budget_ms=700'`,
    )
    const withImages = await send(page)
    const form = new FormData()
    form.set('text', TEXT)
    form.append('image', new Blob([png], { type: 'image/png' }), 'avatar.png')
    form.append('image', new Blob([dropped], { type: 'image/png' }), 'dropped.png')
    form.set('policy', 'default')
    form.set('budget_ms', '700')
    const apiWithImages = (await (await fetch(`${open.url}/v1/moderate`, { method: 'POST', body: form })).json()) as Record<string, unknown>
    expect(withoutPerRequest(withImages)).toEqual(withoutPerRequest(apiWithImages))
    expect(await text(page, '#signals')).toBe((withImages.signals as string[] | undefined)?.join(', ') ?? 'none')

    // Copy puts the curl on the clipboard.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: open.url })
    await page.click('#copy')
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(await page.textContent('#curl'))

    mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: `${ARTIFACTS}/playground.png`, fullPage: true })
    expect(problems).toEqual([])
    await page.close()
  }, 60_000)

  it('renders what it gets back as text: markup in an answer or in the curl is never run', async () => {
    const { page, problems } = await newPage()
    await page.goto(`${open.url}/playground`)
    await page.waitForFunction(() => document.querySelectorAll('#policy option').length >= 2)
    const hostile = '<img src=x onerror=window.pwned=1>'
    // A policy name the server quotes back in its 400.
    await page.evaluate((name) => {
      const select = document.getElementById('policy') as HTMLSelectElement
      select.append(Object.assign(document.createElement('option'), { value: name, textContent: 'hostile' }))
      select.value = name
    }, hostile)
    await page.fill('#text', hostile)
    await page.click('#send')
    await page.waitForSelector('#notice:not([hidden])')
    expect(await text(page, '#notice')).toContain(`HTTP 400 invalid_request:`)
    expect(await text(page, '#notice')).toContain('<img src=x')
    expect(await text(page, '#curl')).toContain(hostile)
    expect(await page.evaluate(() => ({ pwned: (window as { pwned?: number }).pwned, imgs: document.querySelectorAll('#notice img, #curl img, #raw img').length }))).toEqual({ pwned: undefined, imgs: 0 })
    // The page's CSP refuses any inline script but its own.
    await page.evaluate(() => document.body.append(Object.assign(document.createElement('script'), { textContent: 'window.injected = 1' })))
    expect(await page.evaluate(() => (window as { injected?: number }).injected)).toBeUndefined()
    const refusals = problems.filter((p) => /inline script .*Content Security Policy/i.test(p))
    expect(refusals).toHaveLength(1)
    expect(problems.filter((p) => !refusals.includes(p) && !p.includes('status of 400'))).toEqual([])
    await page.close()
  }, 60_000)

  it('asks for the key when the service answers 401, then sends it as a bearer token and keeps it for the tab', async () => {
    const { page, problems } = await newPage()
    await page.goto(`${keyed.url}/playground`)
    // GET /v1/policies needs the key too: the page says so at once.
    await page.waitForSelector('#notice:not([hidden])')
    expect(await text(page, '#notice')).toMatch(/^This service requires an API key \(401 unauthorized\)\. Paste one of its keys/)
    await page.fill('#text', TEXT)
    await page.click('#send')
    await page.waitForFunction(() => document.getElementById('send')!.hasAttribute('disabled') === false)
    expect(await page.isHidden('#verdict')).toBe(true)

    await page.fill('#key', 'not-the-key')
    await page.press('#key', 'Tab')
    await page.waitForFunction(() => document.getElementById('notice')!.textContent!.includes('refused this API key'))

    await page.fill('#key', 'browser-key')
    await page.press('#key', 'Tab')
    await page.waitForFunction(() => document.querySelectorAll('#policy option').length >= 2)
    expect(await page.isHidden('#notice')).toBe(true)
    const verdict = await send(page)
    expect(verdict).toMatchObject({ source: 'local', policy: 'default' })
    // The curl names the key without showing it.
    expect(await text(page, '#curl')).toContain(`-H "authorization: Bearer $MODERATION_KEY"`)
    expect(await text(page, '#curl')).not.toContain('browser-key')
    expect(await page.isVisible('#curl-key')).toBe(true)
    // Kept in sessionStorage: a reload of the tab still sends it.
    await page.reload()
    expect(await page.inputValue('#key')).toBe('browser-key')
    await page.waitForFunction(() => document.querySelectorAll('#policy option').length >= 2)
    expect(problems.every((p) => p.includes('status of 401'))).toBe(true)
    await page.close()
  }, 60_000)
})
