import type { ModelOutcome } from '../shared/model.js'
import type { Clock } from '../shared/ports.js'

export interface HedgeOptions {
  /** Start a second call when the first has not answered after this long. */
  afterMs: number
  clock: Clock
  /** A free call slot, if any: a hedge never waits for one (it would only add load). */
  trySlot?: () => (() => void) | undefined
  /** The least time a hedge needs to be worth starting. */
  minCallMs?: number
}

// Measured model calls take 100 ms at the very least; a hedge with less left only adds load.
const MIN_HEDGE_CALL_MS = 100

/**
 * Cuts the tail when the model is slow but alive: if the first call has not answered after
 * `afterMs` and the budget leaves room, a second identical call starts; the first judged answer
 * wins and the other call is aborted. Off unless configured.
 *
 * @example
 * const outcome = await hedged((signal) => judge(signal), signal, deadline, { afterMs: 400, clock })
 */
export async function hedged(
  attempt: (signal: AbortSignal) => Promise<ModelOutcome>,
  signal: AbortSignal,
  deadline: number,
  { afterMs, clock, trySlot, minCallMs = MIN_HEDGE_CALL_MS }: HedgeOptions,
): Promise<ModelOutcome> {
  // An attempt that throws (a bug) is a failure here, never an unhandled rejection.
  const safely = (controller: AbortController) =>
    attempt(controller.signal).catch((error: unknown): ModelOutcome => ({ kind: 'failed', reason: 'upstream_error', detail: String(error) }))
  const first = linked(signal)
  const primary = safely(first)
  // A hedge must have time to answer: no second call when less than minCallMs would be left.
  if (deadline - clock.now() < afterMs + minCallMs) return primary
  const wait = clock.timer(afterMs)
  const early = await Promise.race([primary, wait.promise.then(() => undefined)])
  wait.cancel()
  if (early || deadline - clock.now() < minCallMs) return early ?? primary
  const slot = trySlot ? trySlot() : () => {}
  if (!slot) return primary
  const second = linked(signal)
  const backup = safely(second)
  void backup.then(slot)
  return new Promise<ModelOutcome>((resolve) => {
    let failure: ModelOutcome | undefined
    let pending = 2
    const settle = (outcome: ModelOutcome, loser: AbortController) => {
      if (outcome.kind === 'judged') {
        loser.abort()
        return resolve(outcome)
      }
      failure ??= outcome
      if (--pending === 0) resolve(failure)
    }
    void primary.then((outcome) => settle(outcome, second))
    void backup.then((outcome) => settle(outcome, first))
  })
}

function linked(parent: AbortSignal): AbortController {
  const controller = new AbortController()
  if (parent.aborted) controller.abort()
  else parent.addEventListener('abort', () => controller.abort(), { once: true })
  return controller
}
