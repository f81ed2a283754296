import type { Context } from '@opentelemetry/api'
import type { ModerationImage } from '../images/image-types.js'
import type { Policy } from './policy.js'

export interface ModerationItem {
  text?: string
  /** SHA-256 of the text when the caller already has it (it logs it); computed otherwise. */
  textSha256?: string
  images: ModerationImage[]
}

export interface ModerationRequest {
  item: ModerationItem
  policy: Policy
  budgetMs: number
  /** Clock time the request arrived; the budget counts from here. */
  startedAt: number
  requestId: string
  /**
   * The request span's context: the moderation span is its child. Explicit, as workerd has no
   * async context manager by default; the active context when absent.
   */
  trace?: Context
  /** Keeps work alive after the response (Workers' ctx.waitUntil); absent on Node, where it lives anyway. */
  waitUntil?: (promise: Promise<unknown>) => void
}

/** What every request carries besides its content. */
export type RequestContext = Omit<ModerationRequest, 'item'>
