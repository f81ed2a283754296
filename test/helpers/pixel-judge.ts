import sharp from 'sharp'
import type { FakeReply, RecordedRequest } from './fake-gemini.js'

const UNSAFE: FakeReply = { verdict: { safe: false, categories: ['violence'], confidence: 0.95, rationale: 'red pixels' } }
const SAFE: FakeReply = { verdict: { safe: true, categories: [], confidence: 0.97 } }

/**
 * A model that looks: decodes every image a Gemini request carries and calls it unsafe when any
 * pixel is red (what the hostile fixtures hide in frames), safe otherwise. For `setDefault`.
 *
 * @example
 * gemini.setDefault(redMeansUnsafe)
 */
export async function redMeansUnsafe(request: RecordedRequest): Promise<FakeReply> {
  const images = request.body.contents.flatMap((content) => content.parts.flatMap((part) => (part.inlineData ? [part.inlineData.data] : [])))
  for (const image of images) {
    const { data, info } = await sharp(Buffer.from(image, 'base64')).removeAlpha().raw().toBuffer({ resolveWithObject: true })
    for (let i = 0; i < data.length; i += info.channels) {
      if (data[i]! > 200 && data[i + 1]! < 80 && data[i + 2]! < 80) return UNSAFE
    }
  }
  return SAFE
}
