import { Hono } from 'hono'
import type { AppEnv } from '../http/app-env.js'
import { limitBody } from '../http/body-limit.js'
import { ApiError } from '../http/errors.js'
import { judgeItem, requestContext, type JudgeDeps } from '../http/judge-item.js'
import { readModerationBody } from '../http/read-moderation-body.js'

/** POST /v1/moderate: one item, any of the three body forms, a verdict within the budget. */
export function moderateRoutes(deps: JudgeDeps) {
  const app = new Hono<AppEnv>()

  app.post('/moderate', limitBody(deps.limits.maxBodyBytes), async (c) => {
    const read = await readModerationBody(c.req.raw, new URL(c.req.url).searchParams, { maxImages: deps.limits.maxImages })
    if (!read.ok) throw ApiError.from(read.problem)
    const { text, images, policy, budgetMs } = read.value
    const judged = await judgeItem(deps, { text, images }, requestContext(c, deps, policy, budgetMs))
    if (!judged.ok) throw ApiError.from(judged.problem)
    c.set('logFields', judged.value.log)
    return c.json(judged.value.verdict)
  })

  return app
}
