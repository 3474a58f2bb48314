import { type EmulatorContext, findStream } from '../context.ts'
import { streamNotFound } from '../errors.ts'
import type { Route } from '../http/router.ts'
import { PutMediaConnection } from '../put-media/put-media-connection.ts'
import { parsePutMediaHeaders } from '../put-media/put-media-headers.ts'

/**
 * `POST /putMedia`: checks the headers and the stream (HTTP errors before any 200), then hands the
 * connection to a `PutMediaConnection`.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export function putMediaRoutes(context: EmulatorContext): Route[] {
  return [
    {
      operation: 'PutMedia',
      path: '/putMedia',
      body: 'stream',
      async handle({ request, response, continueExpected }) {
        const headers = parsePutMediaHeaders(request.headers)
        const stream = findStream(context, headers)
        if (stream === undefined) throw streamNotFound()
        await new PutMediaConnection(context, stream, headers, request, response).run(continueExpected)
      },
    },
  ]
}
