import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseConfig, unknownSettings } from '../../src/config/config.js'
import { serveForTests } from '../helpers/serve.js'
import { buildService } from '../helpers/service.js'
import { DEBIAN_PYTHON, needsGoogleApiClient } from '../helpers/system-tools.js'

const DISCOVERY = '/$discovery/rest?version=v1alpha1'

describe('GET /$discovery/rest (Comment Analyzer discovery document)', () => {
  it('describes comments.analyze under the origin the request came to, publicly, even with API keys set', async () => {
    const { app } = await buildService({ env: { MODERATION_API_KEYS: 'k' } })
    const res = await app.request(`http://moderation.internal:8080${DISCOVERY}`)
    expect(res.status).toBe(200)
    const document = (await res.json()) as Record<string, unknown> & { resources: { comments: { methods: Record<string, unknown> } } }
    expect(document).toMatchObject({ kind: 'discovery#restDescription', discoveryVersion: 'v1', name: 'commentanalyzer', version: 'v1alpha1', rootUrl: 'http://moderation.internal:8080/', servicePath: '' })
    // Only what the service implements: no suggestscore.
    expect(Object.keys(document.resources.comments.methods)).toEqual(['analyze'])
    expect(document.resources.comments.methods.analyze).toMatchObject({ httpMethod: 'POST', path: 'v1alpha1/comments:analyze', request: { $ref: 'AnalyzeCommentRequest' }, response: { $ref: 'AnalyzeCommentResponse' } })
    // Without ?version it is the same document; another version is Google's 404.
    expect(await (await app.request('http://moderation.internal:8080/$discovery/rest')).json()).toEqual(document)
    const other = await app.request('/$discovery/rest?version=v1')
    expect(other.status).toBe(404)
    expect(await other.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND', message: expect.stringContaining('only v1alpha1') } })
  })

  it('is never cached when its rootUrl comes from the Host header: a cache keyed on another name would serve an attacker\'s host', async () => {
    const { app } = await buildService({})
    const res = await app.request(`http://evil.example${DISCOVERY}`)
    expect(await res.json()).toMatchObject({ rootUrl: 'http://evil.example/' })
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('vary')).toMatch(/host/i)
    const fixed = await (await buildService({ env: { MODERATION_PUBLIC_URL: 'https://moderation.example.com/' } })).app.request(`http://evil.example${DISCOVERY}`)
    expect(await fixed.json()).toMatchObject({ rootUrl: 'https://moderation.example.com/' })
    expect(fixed.headers.get('cache-control')).toMatch(/public/)
  })

  it('takes its rootUrl from MODERATION_PUBLIC_URL behind a proxy, and refuses a URL that cannot be one', async () => {
    const { app } = await buildService({ env: { MODERATION_PUBLIC_URL: 'https://moderation.example.com/perspective' } })
    expect(await (await app.request(`http://10.0.0.5:8080${DISCOVERY}`)).json()).toMatchObject({ rootUrl: 'https://moderation.example.com/perspective/', baseUrl: 'https://moderation.example.com/perspective/' })
    for (const bad of ['ftp://moderation.example.com/', 'https://moderation.example.com/?a=1', 'https://user:pw@moderation.example.com/', 'moderation.example.com']) {
      expect(() => parseConfig({ MODERATION_PUBLIC_URL: bad }), bad).toThrow(/MODERATION_PUBLIC_URL/)
    }
    expect(unknownSettings({ MODERATION_PUBLIC_ULR: 'https://x/' })).toEqual([{ name: 'MODERATION_PUBLIC_ULR', closest: 'MODERATION_PUBLIC_URL' }])
  })
})

// Perspective's documented Python client (Google's discovery-based googleapiclient, Debian's
// python3-googleapi), with only its discovery URL changed, against the service on loopback.
const CLIENT = `
import inspect, json, sys
from googleapiclient import discovery, errors
url, key, text = sys.argv[1:4]
options = {'static_discovery': False} if 'static_discovery' in inspect.signature(discovery.build).parameters else {}
client = discovery.build('commentanalyzer', 'v1alpha1', developerKey=key, discoveryServiceUrl=url + '/$discovery/rest?version=v1alpha1', cache_discovery=False, **options)
body = {'comment': {'text': text}, 'requestedAttributes': {'TOXICITY': {}, 'INSULT': {}}, 'languages': ['en']}
try:
    print(json.dumps({'response': client.comments().analyze(body=body).execute()}))
except errors.HttpError as error:
    print(json.dumps({'status': error.resp.status, 'error': json.loads(error.content)}))
`
const available = needsGoogleApiClient()

async function runClient(url: string, key: string, text: string): Promise<{ response?: Record<string, unknown>; status?: number; error?: unknown }> {
  const { stdout } = await promisify(execFile)(DEBIAN_PYTHON, ['-c', CLIENT, url, key, text], { env: { PATH: process.env.PATH }, timeout: 20_000 })
  return JSON.parse(stdout) as { response?: Record<string, unknown>; status?: number }
}

describe.runIf(available)("Perspective's Python client (googleapiclient) pointed at the service by its discovery URL", () => {
  let keyed: string
  let open: string
  beforeAll(async () => {
    const [withKey, withoutKey] = await Promise.all([buildService({ env: { MODERATION_API_KEYS: 'perspective-key' } }), buildService()])
    ;[keyed, open] = await Promise.all([serveForTests(withKey.app), serveForTests(withoutKey.app)])
  })

  it('gets the scores the service gives, its key sent as ?key=', async () => {
    const text = 'go back to your own country'
    const { response } = await runClient(keyed, 'perspective-key', text)
    const direct = (await (
      await fetch(`${keyed}/v1alpha1/comments:analyze?key=perspective-key`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ comment: { text }, requestedAttributes: { TOXICITY: {}, INSULT: {} }, languages: ['en'] }),
      })
    ).json()) as Record<string, unknown>
    expect(response).toMatchObject({ languages: ['en'], moderation: { source: 'local', policy: 'default' } })
    expect(response?.attributeScores).toEqual(direct.attributeScores)
    expect(Object.keys(response?.attributeScores ?? {}).sort()).toEqual(['INSULT', 'TOXICITY'])
    expect(response?.attributeScores).toMatchObject({ TOXICITY: { summaryScore: { value: expect.any(Number), type: 'PROBABILITY' } } })
  }, 30_000)

  it("sees a wrong key as Google's 401, and needs none from a service without keys", async () => {
    const [refused, answered] = await Promise.all([runClient(keyed, 'wrong-key', 'hello'), runClient(open, 'any-dummy-key', 'hello')])
    expect(refused).toMatchObject({ status: 401, error: { error: { code: 401, status: 'UNAUTHENTICATED' } } })
    expect(answered.response).toMatchObject({ attributeScores: { TOXICITY: { summaryScore: { type: 'PROBABILITY' } } }, moderation: { source: 'local' } })
  }, 30_000)
})
