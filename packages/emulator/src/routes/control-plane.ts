import { randomInt } from 'node:crypto'
import { type EmulatorContext, findStream } from '../context.ts'
import { invalidArgument, ServiceError, streamNotFound } from '../errors.ts'
import { type JsonObject, jsonRoute, type Route } from '../http/router.ts'
import {
  DEVICE_NAME,
  MEDIA_TYPE,
  NEXT_TOKEN,
  optionalInteger,
  optionalString,
  optionalTags,
  requiredString,
  requiredStringList,
  STREAM_ARN,
  STREAM_NAME,
  streamReference,
  VERSION,
} from '../http/validate.ts'
import type { StreamRecord } from '../storage/types.ts'

const API_NAMES = new Set([
  'PUT_MEDIA',
  'GET_MEDIA',
  'LIST_FRAGMENTS',
  'GET_MEDIA_FOR_FRAGMENT_LIST',
  'GET_HLS_STREAMING_SESSION_URL',
  'GET_DASH_STREAMING_SESSION_URL',
  'GET_CLIP',
  'GET_IMAGES',
])
const MAX_TAGS = 50
/** The service's upper bound on DataRetentionInHours (10 years). */
const MAX_RETENTION_HOURS = 87_600
const VERSION_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** A new stream version: 20 letters and digits, like `6CRnafBoUOwmTbDTPS8U`. */
export function newVersion(): string {
  let version = ''
  for (let i = 0; i < 20; i++) version += VERSION_ALPHABET[randomInt(VERSION_ALPHABET.length)]
  return version
}

/** `StreamInfo` as DescribeStream and ListStreams return it (members in the service's order, explicit nulls). */
export function streamInfo(context: EmulatorContext, stream: StreamRecord): JsonObject {
  return {
    CreationTime: stream.creationTimeMs / 1000,
    DataRetentionInHours: stream.dataRetentionInHours,
    DeviceName: stream.deviceName,
    KmsKeyId: stream.kmsKeyId,
    MediaType: stream.mediaType,
    Status: context.status(stream),
    StreamARN: stream.streamARN,
    StreamName: stream.streamName,
    Version: stream.version,
  }
}

function requireStream(context: EmulatorContext, input: JsonObject): StreamRecord {
  const stream = findStream(context, streamReference(input))
  if (stream === undefined) throw streamNotFound()
  return stream
}

function checkVersion(stream: StreamRecord, version: string | undefined): void {
  if (version !== undefined && version !== stream.version) {
    throw new ServiceError(
      'VersionMismatchException',
      400,
      `The version ${version} does not match the current version ${stream.version} of stream ${stream.streamName}.`,
    )
  }
}

/**
 * The control-plane operations (`rest-json`, `POST /<operation>`): CreateStream, DescribeStream, ListStreams,
 * DeleteStream, UpdateStream, UpdateDataRetention, TagStream, UntagStream, ListTagsForStream, GetDataEndpoint.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_Operations_Amazon_Kinesis_Video_Streams.html
 */
export function controlPlaneRoutes(context: EmulatorContext): Route[] {
  const { options, storage } = context
  return [
    jsonRoute('CreateStream', '/createStream', async (input) => {
      const streamName = requiredString(input, 'StreamName', { pattern: STREAM_NAME })
      const deviceName = optionalString(input, 'DeviceName', { pattern: DEVICE_NAME })
      const mediaType = optionalString(input, 'MediaType', { pattern: MEDIA_TYPE, maxLength: 128 })
      const kmsKeyId = optionalString(input, 'KmsKeyId', { minLength: 1, maxLength: 2048 })
      const retention = optionalInteger(input, 'DataRetentionInHours', { min: 0, max: MAX_RETENTION_HOURS })
      const tags = optionalTags(input, 'Tags', MAX_TAGS)
      if (storage.getStream(streamName) !== undefined) {
        throw new ServiceError('ResourceInUseException', 400, `The stream ${streamName} already exists.`)
      }
      const creationTimeMs = Math.floor(options.clock())
      const stream: StreamRecord = {
        streamName,
        streamARN: `arn:aws:kinesisvideo:${options.region}:${options.accountId}:stream/${streamName}/${creationTimeMs}`,
        creationTimeMs,
        dataRetentionInHours: retention ?? 0,
        deviceName: deviceName ?? null,
        mediaType: mediaType ?? null,
        kmsKeyId: kmsKeyId ?? `arn:aws:kms:${options.region}:${options.accountId}:alias/aws/kinesisvideo`,
        version: newVersion(),
        tags: tags ?? {},
      }
      await storage.createStream(stream)
      context.log.info('stream created', { streamName, retentionHours: stream.dataRetentionInHours })
      return { StreamARN: stream.streamARN }
    }),

    jsonRoute('DescribeStream', '/describeStream', (input) => ({
      StreamInfo: streamInfo(context, requireStream(context, input)),
    })),

    jsonRoute('ListStreams', '/listStreams', (input) => {
      const maxResults = optionalInteger(input, 'MaxResults', { min: 1, max: 10_000 }) ?? 10_000
      const nextToken = optionalString(input, 'NextToken', { pattern: NEXT_TOKEN })
      const condition = input.StreamNameCondition
      let prefix = ''
      if (condition !== undefined && condition !== null) {
        if (typeof condition !== 'object' || Array.isArray(condition)) {
          throw new ServiceError('SerializationException', 400, 'StreamNameCondition must be a structure.')
        }
        const operator = optionalString(condition as JsonObject, 'ComparisonOperator')
        if (operator !== undefined && operator !== 'BEGINS_WITH') {
          throw invalidArgument(`ComparisonOperator must be BEGINS_WITH, got ${operator}.`)
        }
        prefix = optionalString(condition as JsonObject, 'ComparisonValue', { pattern: STREAM_NAME }) ?? ''
      }
      let after = ''
      if (nextToken !== undefined && nextToken !== '') {
        after = Buffer.from(nextToken, 'base64').toString('utf8')
        if (!STREAM_NAME.test(after)) throw invalidArgument('NextToken is not valid.')
      }
      const matching = storage
        .listStreams()
        .filter((stream) => stream.streamName.startsWith(prefix) && stream.streamName > after)
      const page = matching.slice(0, maxResults)
      const last = page[page.length - 1]
      return {
        ...(matching.length > maxResults && last !== undefined
          ? { NextToken: Buffer.from(last.streamName).toString('base64') }
          : {}),
        StreamInfoList: page.map((stream) => streamInfo(context, stream)),
      }
    }),

    jsonRoute('DeleteStream', '/deleteStream', async (input) => {
      const streamARN = requiredString(input, 'StreamARN', { pattern: STREAM_ARN, maxLength: 1024 })
      const currentVersion = optionalString(input, 'CurrentVersion', { pattern: VERSION })
      const stream = findStream(context, { streamARN })
      if (stream === undefined) throw streamNotFound()
      checkVersion(stream, currentVersion)
      context.runtime(stream).writer?.streamDeleted()
      context.forgetRuntime(stream)
      await storage.deleteStream(stream)
      context.log.info('stream deleted', { streamName: stream.streamName })
      return undefined
    }),

    jsonRoute('UpdateStream', '/updateStream', async (input) => {
      const stream = requireStream(context, input)
      checkVersion(stream, requiredString(input, 'CurrentVersion', { pattern: VERSION }))
      const deviceName = optionalString(input, 'DeviceName', { pattern: DEVICE_NAME })
      const mediaType = optionalString(input, 'MediaType', { pattern: MEDIA_TYPE, maxLength: 128 })
      await storage.updateStream({
        ...stream,
        deviceName: deviceName ?? stream.deviceName,
        mediaType: mediaType ?? stream.mediaType,
        version: newVersion(),
      })
      return undefined
    }),

    jsonRoute('UpdateDataRetention', '/updateDataRetention', async (input) => {
      const stream = requireStream(context, input)
      const currentVersion = requiredString(input, 'CurrentVersion', { pattern: VERSION })
      const operation = requiredString(input, 'Operation')
      const change = optionalInteger(input, 'DataRetentionChangeInHours', {
        min: 1,
        max: MAX_RETENTION_HOURS,
      })
      if (change === undefined) throw invalidArgument('DataRetentionChangeInHours is required.')
      if (operation !== 'INCREASE_DATA_RETENTION' && operation !== 'DECREASE_DATA_RETENTION') {
        throw invalidArgument(
          `Operation must be INCREASE_DATA_RETENTION or DECREASE_DATA_RETENTION, got ${operation}.`,
        )
      }
      checkVersion(stream, currentVersion)
      const retention =
        stream.dataRetentionInHours + (operation === 'INCREASE_DATA_RETENTION' ? change : -change)
      if (retention < 0 || retention > MAX_RETENTION_HOURS) {
        throw invalidArgument(
          `The data retention would become ${retention} hours, outside 0 to ${MAX_RETENTION_HOURS}.`,
        )
      }
      await storage.updateStream({ ...stream, dataRetentionInHours: retention, version: newVersion() })
      return undefined
    }),

    jsonRoute('TagStream', '/tagStream', async (input) => {
      const stream = requireStream(context, input)
      const tags = optionalTags(input, 'Tags', MAX_TAGS)
      if (tags === undefined) throw invalidArgument('Tags is required.')
      const merged = { ...stream.tags, ...tags }
      if (Object.keys(merged).length > MAX_TAGS) {
        throw new ServiceError(
          'TagsPerResourceExceededLimitException',
          400,
          `A stream can have at most ${MAX_TAGS} tags; this request would make ${Object.keys(merged).length}.`,
        )
      }
      await storage.updateStream({ ...stream, tags: merged })
      return undefined
    }),

    jsonRoute('UntagStream', '/untagStream', async (input) => {
      const stream = requireStream(context, input)
      const keys = requiredStringList(input, 'TagKeyList', MAX_TAGS)
      const tags = { ...stream.tags }
      for (const key of keys) delete tags[key]
      await storage.updateStream({ ...stream, tags })
      return undefined
    }),

    jsonRoute('ListTagsForStream', '/listTagsForStream', (input) => {
      optionalString(input, 'NextToken', { pattern: NEXT_TOKEN })
      const tags = requireStream(context, input).tags
      // The model's ResourceTags holds 1 to 50 entries: a stream without tags gets no Tags member.
      return Object.keys(tags).length === 0 ? {} : { Tags: { ...tags } }
    }),

    jsonRoute('GetDataEndpoint', '/getDataEndpoint', (input, request) => {
      const apiName = requiredString(input, 'APIName')
      if (!API_NAMES.has(apiName))
        throw invalidArgument(`APIName ${apiName} is not one of ${[...API_NAMES].join(', ')}.`)
      requireStream(context, input)
      return { DataEndpoint: context.endpointFor(request.request) }
    }),
  ]
}
