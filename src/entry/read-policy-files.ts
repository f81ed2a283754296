import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Reads every *.yaml / *.yml file of a folder into { "name.yaml": text }. A folder that is
 * missing, not a folder or unreadable is an error naming MODERATION_POLICIES_DIR.
 */
export async function readPolicyFiles(dir: string): Promise<Record<string, string>> {
  const names = (await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    const why = error.code === 'ENOENT' ? 'does not exist' : error.code === 'ENOTDIR' ? 'is not a folder' : error.code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${error.code ?? error.message})`
    throw new Error(`MODERATION_POLICIES_DIR: ${dir} ${why}; point it at a folder of policy *.yaml files (the repository's policies/ by default)`)
  })).filter((name) => /\.ya?ml$/.test(name))
  const entries = await Promise.all(names.map(async (name) => [name, await readFile(join(dir, name), 'utf8')] as const))
  return Object.fromEntries(entries)
}
