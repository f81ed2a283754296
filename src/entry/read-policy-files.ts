import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Reads every *.yaml / *.yml file of a folder into { "name.yaml": text }. */
export async function readPolicyFiles(dir: string): Promise<Record<string, string>> {
  const names = (await readdir(dir)).filter((name) => /\.ya?ml$/.test(name))
  const entries = await Promise.all(names.map(async (name) => [name, await readFile(join(dir, name), 'utf8')] as const))
  return Object.fromEntries(entries)
}
