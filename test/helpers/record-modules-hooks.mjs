import { appendFileSync } from 'node:fs'

const file = process.env.RECORD_MODULES_TO

export async function load(url, context, nextLoad) {
  if (file && url.includes('/node_modules/@opentelemetry/')) appendFileSync(file, `${url}\n`)
  return nextLoad(url, context)
}
