import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll } from 'vitest'
import { makeImage } from './images.js'

/**
 * An origin server for image URLs on 127.0.0.1: /ok.png, /big.png (over any small cap), /slow
 * (never answers), /same-host (redirects to /ok.png), /other-host (redirects to localhost),
 * /missing (404), /text (not an image), /bad-redirect (an unparsable Location), /reset (the
 * connection drops mid-body). Counts the requests it gets.
 */
export async function startImageServer() {
  const png = await makeImage('png', 24, 24)
  const big = await makeImage('png', 400, 400)
  let requests = 0
  const server = createServer((req, res) => {
    requests++
    const port = (server.address() as AddressInfo).port
    switch (req.url) {
      case '/bad-redirect':
        return res.writeHead(302, { location: 'http://[zz/' }).end()
      case '/reset':
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': '1000' })
        res.write(png.subarray(0, 3))
        return void setTimeout(() => res.socket?.destroy(), 20)
      case '/ok.png':
        return res.writeHead(200, { 'content-type': 'image/png' }).end(png)
      case '/big.png':
        return res.writeHead(200, { 'content-type': 'image/png' }).end(big)
      case '/slow':
        return // never answers
      case '/same-host':
        return res.writeHead(302, { location: '/ok.png' }).end()
      case '/other-host':
        return res.writeHead(302, { location: `http://localhost:${port}/ok.png` }).end()
      case '/text':
        return res.writeHead(200, { 'content-type': 'image/png' }).end('<html>not an image</html>')
      default:
        return res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  afterAll(() => {
    server.closeAllConnections()
    server.close()
  })
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    port: (server.address() as AddressInfo).port,
    png,
    requestCount: () => requests,
  }
}
