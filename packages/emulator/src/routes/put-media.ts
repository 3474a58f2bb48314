import { type EmulatorContext, findStream } from '../context.ts'
import { olderPutMedia, streamNotFound } from '../errors.ts'
import type { Route } from '../http/router.ts'
import { PutMediaConnection } from '../put-media/put-media-connection.ts'
import { parsePutMediaHeaders } from '../put-media/put-media-headers.ts'
import { admitPutMediaStart, putMediaStartMs } from '../put-media/request-start.ts'

/**
 * `POST /putMedia`: checks the headers and the stream (HTTP errors before any 200), refuses a request that
 * started before the newest one accepted for the stream (400 `ConnectionLimitExceededException`), then hands
 * the connection to a `PutMediaConnection`, which becomes the stream's writer.
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
        const runtime = context.runtime(stream)
        const now = context.options.clock()
        const amzDate = request.headers['x-amz-date']
        const startMs = putMediaStartMs(typeof amzDate === 'string' ? amzDate : undefined, now)
        const admission = admitPutMediaStart(runtime.newestPutMediaStartMs, startMs, now)
        if (!admission.admitted) throw olderPutMedia(startMs, admission.newestStartMs)
        runtime.newestPutMediaStartMs = admission.newestStartMs
        await new PutMediaConnection(context, stream, headers, request, response).run(continueExpected)
      },
    },
  ]
}
