import { createWorkerHandler } from './worker-handler.js'

// The Worker entry: Wrangler needs this one default export.
export default createWorkerHandler()
