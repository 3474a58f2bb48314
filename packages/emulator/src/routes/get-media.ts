import { type EmulatorContext, findStream } from '../context.ts'
import { invalidArgument, streamNotFound } from '../errors.ts'
import { FragmentListConnection } from '../get-media/fragment-list-connection.ts'
import { GetMediaConnection } from '../get-media/get-media-connection.ts'
import { listFragmentsPage } from '../get-media/list-fragments.ts'
import { parseStartSelector } from '../get-media/start-selector.ts'
import { type JsonObject, jsonRoute, type Route } from '../http/router.ts'
import { requiredStringList, streamReference } from '../http/validate.ts'
import type { StreamRecord } from '../storage/types.ts'

/** Most fragments one GetMediaForFragmentList may ask for. */
const MAX_FRAGMENT_LIST = 1000
const FRAGMENT_NUMBER = /^[0-9]{1,128}$/

function requireStream(context: EmulatorContext, input: JsonObject): StreamRecord {
  const stream = findStream(context, streamReference(input))
  if (stream === undefined) throw streamNotFound()
  return stream
}

/**
 * The media read operations, on the data endpoint: `POST /getMedia` (kinesis-video-media),
 * `POST /listFragments` and `POST /getMediaForFragmentList` (kinesis-video-archived-media). Requests are JSON,
 * signed over their body; errors before the `200` have the AWS shape of every other route.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_GetMedia.html
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_reader_ListFragments.html
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_reader_GetMediaForFragmentList.html
 */
export function getMediaRoutes(context: EmulatorContext): Route[] {
  return [
    {
      operation: 'GetMedia',
      path: '/getMedia',
      body: 'json',
      async handle({ input, response }) {
        const reference = streamReference(input)
        const position = parseStartSelector(input)
        const stream = findStream(context, reference)
        if (stream === undefined) throw streamNotFound()
        await new GetMediaConnection(context, stream, position, response).run()
      },
    },
    {
      operation: 'GetMediaForFragmentList',
      path: '/getMediaForFragmentList',
      body: 'json',
      async handle({ input, response }) {
        const stream = requireStream(context, input)
        const fragments = requiredStringList(input, 'Fragments', MAX_FRAGMENT_LIST)
        for (const fragment of fragments) {
          if (!FRAGMENT_NUMBER.test(fragment)) {
            throw invalidArgument(
              `Fragments ${JSON.stringify(fragment.slice(0, 130))} is not a fragment number.`,
            )
          }
        }
        await new FragmentListConnection(context, stream, fragments, response).run()
      },
    },
    jsonRoute('ListFragments', '/listFragments', (input) => {
      const stream = requireStream(context, input)
      return listFragmentsPage(stream, context.storage.listFragments(stream.streamName), input)
    }),
  ]
}
