import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The layout README's "How the code is laid out" describes, held: every file of src/ sits in a
// folder that names its concern, imports run only down the ranks below (or within a folder), no
// file imports itself round a circle, and the core imports no Hono and no runtime.

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../src')

/** Folder, its rank (a folder imports only from folders of lower rank, or from itself), and the file whose header says what it owns. */
const FOLDERS: Record<string, { rank: number; entry?: string }> = {
  'core/shared': { rank: 0, entry: 'verdict.ts' },
  generated: { rank: 0 },
  'core/telemetry': { rank: 1, entry: 'telemetry.ts' },
  'core/local': { rank: 1, entry: 'text-classifier.ts' },
  'core/images': { rank: 1, entry: 'prepare-image.ts' },
  'core/resilience': { rank: 1, entry: 'circuit-breaker.ts' },
  'core/webhooks': { rank: 2, entry: 'delivery-queue.ts' },
  'core/moderation': { rank: 2, entry: 'moderate.ts' },
  config: { rank: 3, entry: 'config.ts' },
  logging: { rank: 4, entry: 'json-logger.ts' },
  net: { rank: 4, entry: 'node-webhook-transport.ts' },
  cache: { rank: 4, entry: 'tiered-verdict-cache.ts' },
  model: { rank: 4, entry: 'providers.ts' },
  images: { rank: 5, entry: 'sharp-image-processor.ts' },
  webhooks: { rank: 5, entry: 'redis-delivery-queue.ts' },
  http: { rank: 6, entry: 'app-env.ts' },
  playground: { rank: 6, entry: 'page.ts' },
  compat: { rank: 7, entry: 'openai-moderation.ts' },
  routes: { rank: 8, entry: 'moderate.ts' },
  openapi: { rank: 9, entry: 'document.ts' },
  app: { rank: 10, entry: 'compose.ts' },
  entry: { rank: 11, entry: 'node.ts' },
}
/** Packages the core may use: none of them needs Node, workerd or Hono. */
const CORE_PACKAGES = new Set(['zod', 'yaml', 'lru-cache', 'file-type', '@opentelemetry/api'])

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  )
}
const files = sourceFiles(src)
const folderOf = (file: string) => relative(src, dirname(file)).split('\\').join('/')

/** Every module a file names: static imports and re-exports (types too) and dynamic imports. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)|(?:^|\n)import\s+'([^']+)'/g)].map((m) => (m[1] ?? m[2] ?? m[3])!)
}
const imports = new Map(
  files.map((file) => {
    const named = specifiers(file)
    const local = named.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')))
    return [file, { local, packages: named.filter((s) => !s.startsWith('.')) }]
  }),
)

describe('how the code is laid out', () => {
  it('finds the imports it checks (the parser is not silently blind)', () => {
    expect(files.length).toBeGreaterThan(100)
    const judge = imports.get(join(src, 'core/moderation/judge-within-budget.ts'))!
    expect(judge.local).toContain(join(src, 'core/resilience/hedge.ts'))
    expect(judge.packages).toContain('@opentelemetry/api')
    for (const { local } of imports.values()) for (const target of local) expect(files, `${target} is imported but is not a file of src/`).toContain(target)
  })

  it('keeps every file of src/ in a folder that names its concern, whose entry file says what it owns and may import', () => {
    const unplaced = files.filter((file) => !(folderOf(file) in FOLDERS)).map((file) => relative(src, file))
    expect(unplaced).toEqual([])
    for (const [folder, { entry }] of Object.entries(FOLDERS)) {
      if (!entry) continue
      const header = readFileSync(join(src, folder, entry), 'utf8')
      expect(header.startsWith(`/**\n * ${folder}/:`), `${folder}/${entry} starts with its folder's header`).toBe(true)
      expect(header.slice(0, 1200)).toContain('May import:')
    }
  })

  it('keeps test/ mirroring src/: every folder of tests is a folder of src/, or one of its own (helpers, fixtures, the workerd project, the scripts\' tests)', () => {
    const tests = resolve(src, '../test')
    const folders = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? [relative(tests, join(dir, entry.name)), ...folders(join(dir, entry.name))] : []))
    const own = ['helpers', 'fixtures', 'worker', 'scripts']
    const srcFolders = new Set(Object.keys(FOLDERS).flatMap((folder) => [folder, folder.split('/')[0]!]))
    expect(folders(tests).map((folder) => folder.split('\\').join('/')).filter((folder) => !srcFolders.has(folder) && !own.includes(folder.split('/')[0]!))).toEqual([])
  })

  it('imports only down the ranks, never up or sideways into another folder of the same rank', () => {
    const wrong: string[] = []
    for (const [file, { local }] of imports) {
      const from = folderOf(file)
      for (const target of local) {
        const to = folderOf(target)
        if (to !== from && FOLDERS[to]!.rank >= FOLDERS[from]!.rank) wrong.push(`${relative(src, file)} -> ${relative(src, target)}`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('has no import circles between files', () => {
    // Depth-first search: an edge back to a file still on the path closes a circle.
    const circles: string[] = []
    const state = new Map<string, 'open' | 'done'>()
    const visit = (file: string, path: string[]) => {
      state.set(file, 'open')
      for (const target of imports.get(file)!.local) {
        if (state.get(target) === 'open') circles.push([...path.slice(path.indexOf(target)), target].map((f) => relative(src, f)).join(' -> '))
        else if (!state.has(target)) visit(target, [...path, target])
      }
      state.set(file, 'done')
    }
    for (const file of files) if (!state.has(file)) visit(file, [file])
    expect(circles).toEqual([])
  })

  it('keeps the core free of Hono and of any runtime (node:, workerd, sharp, Redis)', () => {
    const wrong: string[] = []
    for (const [file, { packages }] of imports) {
      if (!folderOf(file).startsWith('core/')) continue
      for (const name of packages) if (!CORE_PACKAGES.has(name)) wrong.push(`${relative(src, file)} imports ${name}`)
      if (/\bprocess\.(env|on|exit)\b/.test(readFileSync(file, 'utf8'))) wrong.push(`${relative(src, file)} reads process`)
    }
    expect(wrong).toEqual([])
  })
})
