import type { Context } from 'hono'
import { METHOD_NAME_ALL } from 'hono/router'
import { matchedRoutes, routePath } from 'hono/route'
import type { AppEnv } from './app-env.js'

/**
 * The route pattern a request was for: its handler's (`app.use` middleware is registered for
 * every method, handlers for theirs), also when a middleware answered first (a 401, a 503 shed);
 * else the pattern that answered (a 404's catch-all).
 */
export function routeOf(c: Context<AppEnv>): string {
  return matchedRoutes(c).find((route) => route.method !== METHOD_NAME_ALL)?.path ?? routePath(c)
}
