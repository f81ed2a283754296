import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError } from '../config/config.js'
import { loadInjectionModel, type InjectionModel } from '../core/local/injection-model.js'

/** The artifact shipped with the code (from src/entry or dist/entry alike). */
export const SHIPPED_INJECTION_MODEL = resolve(dirname(fileURLToPath(import.meta.url)), '../../models/injection-detector.bin')

/**
 * The learned prompt-injection model, read once at start. Always on: it only ever raises a
 * verdict to review, never lowers one. A missing or corrupt file stops the start.
 */
export function readInjectionModel(path = SHIPPED_INJECTION_MODEL): InjectionModel {
  try {
    return loadInjectionModel(readFileSync(path))
  } catch (error) {
    throw new ConfigError(`cannot load the injection model ${path}: ${(error as Error).message}`)
  }
}
