import type { IncomingHttpHeaders } from 'node:http'
import { invalidArgument } from '../errors.ts'
import { STREAM_ARN, STREAM_NAME } from '../http/validate.ts'

/** The PutMedia request headers, checked. */
export interface PutMediaHeaders {
  streamName: string | undefined
  streamARN: string | undefined
  timecodeType: 'ABSOLUTE' | 'RELATIVE'
  /** `x-amzn-producer-start-timestamp` in epoch ms, when sent. */
  producerStartTimestampMs: number | undefined
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  if (Array.isArray(value)) throw invalidArgument(`The ${name} header must be sent once.`)
  return value
}

/**
 * Parses an `x-amzn-producer-start-timestamp` value, epoch seconds with an optional fraction (`1620367399.995`,
 * producer-c's unpadded `1677613818.5` reads as .5 s), to epoch milliseconds; `undefined` when malformed.
 */
export function parseProducerStartTimestamp(value: string): number | undefined {
  const match = /^([0-9]{1,12})(?:\.([0-9]{1,9}))?$/.exec(value.trim())
  if (match === null) return undefined
  return Number(match[1]) * 1000 + Number((match[2] ?? '').padEnd(3, '0').slice(0, 3))
}

/**
 * Checks the PutMedia headers as the service does before it answers 200: exactly one of
 * `x-amzn-stream-name` and `x-amzn-stream-arn`, `x-amzn-fragment-timecode-type` ABSOLUTE or RELATIVE, and a
 * well-formed `x-amzn-producer-start-timestamp` when present. Throws `InvalidArgumentException`.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export function parsePutMediaHeaders(headers: IncomingHttpHeaders): PutMediaHeaders {
  const streamName = single(headers, 'x-amzn-stream-name')
  const streamARN = single(headers, 'x-amzn-stream-arn')
  if ((streamName === undefined) === (streamARN === undefined)) {
    throw invalidArgument('Exactly one of the x-amzn-stream-name and x-amzn-stream-arn headers is required.')
  }
  if (streamName !== undefined && !STREAM_NAME.test(streamName)) {
    throw invalidArgument(
      `x-amzn-stream-name ${JSON.stringify(streamName.slice(0, 300))} is not a valid stream name.`,
    )
  }
  if (streamARN !== undefined && (streamARN.length > 1024 || !STREAM_ARN.test(streamARN))) {
    throw invalidArgument(
      `x-amzn-stream-arn ${JSON.stringify(streamARN.slice(0, 300))} is not a valid stream ARN.`,
    )
  }
  const timecodeType = single(headers, 'x-amzn-fragment-timecode-type')
  if (timecodeType !== 'ABSOLUTE' && timecodeType !== 'RELATIVE') {
    throw invalidArgument(
      `x-amzn-fragment-timecode-type must be ABSOLUTE or RELATIVE, got ${timecodeType === undefined ? 'nothing' : JSON.stringify(timecodeType)}.`,
    )
  }
  const start = single(headers, 'x-amzn-producer-start-timestamp')
  let producerStartTimestampMs: number | undefined
  if (start !== undefined) {
    producerStartTimestampMs = parseProducerStartTimestamp(start)
    if (producerStartTimestampMs === undefined) {
      throw invalidArgument(
        `x-amzn-producer-start-timestamp must be epoch seconds such as 1620367399.995, got ${JSON.stringify(start.slice(0, 100))}.`,
      )
    }
  }
  return { streamName, streamARN, timecodeType, producerStartTimestampMs }
}
