import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError } from '../config/config.js'
import { loadTextClassifier, type TextClassifier } from '../core/local/text-classifier.js'

/** The artifact shipped with the code (from src/entry or dist/entry alike). */
export const SHIPPED_TEXT_CLASSIFIER = resolve(dirname(fileURLToPath(import.meta.url)), '../../models/text-classifier.bin')

/**
 * The text classifier MODERATION_LOCAL_CLASSIFIER names: 'on' is the shipped artifact, 'off' none,
 * anything else a path. Read once, at start; a missing or corrupt file stops the start.
 */
export function readTextClassifier(setting: string): TextClassifier | undefined {
  if (setting === 'off') return undefined
  const path = setting === 'on' ? SHIPPED_TEXT_CLASSIFIER : resolve(setting)
  try {
    return loadTextClassifier(readFileSync(path))
  } catch (error) {
    throw new ConfigError(`MODERATION_LOCAL_CLASSIFIER: cannot load ${path}: ${(error as Error).message}`)
  }
}
