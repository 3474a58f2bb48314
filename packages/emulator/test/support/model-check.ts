import { readFileSync } from 'node:fs'
import type { EmulatorResponseMessage } from '../../src/index.ts'

/**
 * Checks emulator responses against the service's own models (botocore's `service-2.json` for
 * kinesisvideo, kinesis-video-media and kinesis-video-archived-media, copied into `test/models/`, see
 * PROVENANCE.md): member types, required members, enums, string patterns and lengths, list and map sizes,
 * numeric ranges, timestamps as epoch seconds, no members the model does not define, error types with their
 * model HTTP status and shape. Returns the violations found, as sentences naming the operation and member.
 */

interface MemberRef {
  shape: string
  location?: string
  locationName?: string
}

interface Shape {
  type: string
  members?: Record<string, MemberRef>
  required?: string[]
  member?: MemberRef
  key?: MemberRef
  value?: MemberRef
  enum?: string[]
  pattern?: string
  min?: number
  max?: number
  payload?: string
  streaming?: boolean
  exception?: boolean
  error?: { httpStatusCode?: number }
  timestampFormat?: string
}

interface Operation {
  name: string
  http: { method: string; requestUri: string }
  output?: { shape: string }
  errors?: { shape: string }[]
}

interface ServiceModel {
  metadata: { uid: string; protocol: string }
  operations: Record<string, Operation>
  shapes: Record<string, Shape>
}

/** The model files, by botocore service name. */
export const MODEL_FILES = {
  kinesisvideo: 'kinesisvideo.json',
  'kinesis-video-media': 'kinesis-video-media.json',
  'kinesis-video-archived-media': 'kinesis-video-archived-media.json',
} as const

export type ServiceName = keyof typeof MODEL_FILES

/** The directory of the checked-in model copies. */
export const MODELS_DIR = new URL('../models/', import.meta.url)

let loaded: Map<ServiceName, ServiceModel> | undefined

function models(): Map<ServiceName, ServiceModel> {
  if (loaded === undefined) {
    loaded = new Map()
    for (const [name, file] of Object.entries(MODEL_FILES) as [ServiceName, string][]) {
      loaded.set(name, JSON.parse(readFileSync(new URL(file, MODELS_DIR), 'utf8')) as ServiceModel)
    }
  }
  return loaded
}

/** An operation the emulator answers: its model (when botocore has one) and the errors it may return. */
interface Answered {
  service: ServiceName
  model: ServiceModel
  /** `undefined` for PutMedia, which no botocore model describes (its 200 body is the ack stream). */
  operation: Operation | undefined
  name: string
}

/**
 * PutMedia's errors before the 200, per its API page (API_dataplane_PutMedia): the same exceptions as
 * GetMedia, whose kinesis-video-media shapes describe them.
 */
const PUT_MEDIA_ERRORS = [
  'ResourceNotFoundException',
  'NotAuthorizedException',
  'InvalidEndpointException',
  'ClientLimitExceededException',
  'ConnectionLimitExceededException',
  'InvalidArgumentException',
]

/** Finds the operation a request path belongs to, across the three models. */
export function operationFor(path: string): Answered | undefined {
  if (path === '/putMedia') {
    const model = models().get('kinesis-video-media')!
    return { service: 'kinesis-video-media', model, operation: undefined, name: 'PutMedia' }
  }
  for (const [service, model] of models()) {
    for (const operation of Object.values(model.operations)) {
      if (operation.http.method === 'POST' && operation.http.requestUri === path) {
        return { service, model, operation, name: operation.name }
      }
    }
  }
  return undefined
}

/**
 * Errors raised by the AWS front end before an operation runs, which no service model lists, with the HTTP
 * status each is answered with. The first group is the Kinesis Video Streams "Common Errors" page; the
 * second the AWS JSON front end's own (signature, routing, serialization, limits on the request itself).
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/CommonErrors.html
 */
const COMMON_ERRORS: Readonly<Record<string, number>> = {
  AccessDeniedException: 400,
  IncompleteSignature: 400,
  InternalFailure: 500,
  InvalidClientTokenId: 403,
  MissingAuthenticationToken: 403,
  RequestExpired: 400,
  ServiceUnavailable: 503,
  ThrottlingException: 400,
  ValidationError: 400,
  InvalidSignatureException: 403,
  UnrecognizedClientException: 403,
  SerializationException: 400,
  UnknownOperationException: 404,
  RequestEntityTooLargeException: 413,
  RequestHeaderFieldsTooLargeException: 431,
  RequestTimeoutException: 408,
}

/**
 * Members a real service response carries as an explicit JSON `null` although the model only says
 * "optional": DescribeStream's `StreamInfo` of a stream created without them
 * (`"DeviceName":null`, `"MediaType":null`, producer-sdk-cpp issue 226, kvs-protocol.md §6.3). Anywhere else
 * an absent member is left out, never `null`.
 */
const NULL_ALLOWED = new Set(['StreamInfo.DeviceName', 'StreamInfo.MediaType'])

/**
 * Where the model and the service disagree and the emulator follows the service, each with its evidence.
 * `ContentType` (GetMedia, GetMediaForFragmentList): the model's pattern `^[a-zA-Z0-9_\.\-]+$` has no `/`,
 * but the service answers `Content-Type: video/webm` (kvs-protocol.md §7.2: producer-sdk-java issue 47,
 * aws-cli issue 4033), and no SDK validates output members.
 */
const MODEL_DEVIATIONS: ReadonlyArray<{ shape: string; value: string }> = [
  { shape: 'ContentType', value: 'video/webm' },
  // GetClip's payload is an MP4 file ("Traditional MP4 file", its Payload doc): Content-Type video/mp4.
  { shape: 'ContentType', value: 'video/mp4' },
]

/**
 * The HLS and DASH session resources (`GET /hls/v1/…`, `/dash/v1/…`, kvs-archived-media.md §3–§4): no model
 * describes them. What each answers on success, and the status of the errors they answer: the archived-media
 * model's, except NotAuthorizedException, which players saw as HTTP 403 for an expired session (§3).
 */
const SESSION_RESOURCES: Readonly<Record<string, string>> = {
  '/hls/v1/getHLSMasterPlaylist.m3u8': 'application/vnd.apple.mpegurl',
  '/hls/v1/getHLSMediaPlaylist.m3u8': 'application/vnd.apple.mpegurl',
  '/hls/v1/getMP4InitFragment.mp4': 'video/mp4',
  '/hls/v1/getMP4MediaFragment.mp4': 'video/mp4',
  '/dash/v1/getDASHManifest.mpd': 'application/dash+xml',
  '/dash/v1/getMP4InitFragment.mp4': 'video/mp4',
  '/dash/v1/getMP4MediaFragment.mp4': 'video/mp4',
}
const SESSION_RESOURCE_ERRORS: Readonly<Record<string, number>> = {
  NotAuthorizedException: 403,
  ResourceNotFoundException: 404,
  InvalidArgumentException: 400,
  ClientLimitExceededException: 400,
  InvalidCodecPrivateDataException: 400,
  MissingCodecPrivateDataException: 400,
  UnsupportedStreamMediaTypeException: 400,
  InvalidMediaFrameException: 400,
}

function checkSessionResource(message: EmulatorResponseMessage, violations: string[]): void {
  const label = `${message.path} ${message.status}`
  if (message.status === 200) {
    const type = header(message, 'content-type')
    if (type !== SESSION_RESOURCES[message.path!]) {
      violations.push(
        `${label}: Content-Type must be ${SESSION_RESOURCES[message.path!]}, got ${describe(type)}`,
      )
    }
    return
  }
  const errorType = header(message, 'x-amzn-ErrorType')?.split(':')[0]
  const status =
    errorType === undefined ? undefined : (SESSION_RESOURCE_ERRORS[errorType] ?? COMMON_ERRORS[errorType])
  if (status === undefined) {
    violations.push(`${label}: ${describe(errorType)} is not an error a session resource answers`)
    return
  }
  if (message.status !== status)
    violations.push(`${label}: ${errorType} is HTTP ${status}, got ${message.status}`)
  checkJsonContentType(message, label, violations)
  const body = parseBody(message, label, violations) as Record<string, unknown> | undefined
  if (body === undefined || Object.keys(body).length !== 1 || typeof body.Message !== 'string') {
    violations.push(`${label}: a ${errorType} body must be {"Message": string}, got ${describe(body)}`)
  }
}

/**
 * Full-match regular expression of a model `pattern` (Smithy's are ECMA-262 and not anchored; a service
 * validates whole values, so the check anchors them).
 */
const patterns = new Map<string, RegExp>()
function fullMatch(pattern: string): RegExp {
  let regex = patterns.get(pattern)
  if (regex === undefined) {
    regex = new RegExp(`^(?:${pattern})$`, 'u')
    patterns.set(pattern, regex)
  }
  return regex
}

/** Earliest and latest plausible epoch-second timestamps: catches milliseconds sent as seconds. */
const EPOCH_SECONDS_MIN = 0
const EPOCH_SECONDS_MAX = 4_102_444_800 // 2100-01-01

const INT32_MIN = -(2 ** 31)
const INT32_MAX = 2 ** 31 - 1

function describe(value: unknown): string {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text
}

/** Checks a JSON value against a model shape; pushes violations naming `path`. */
function checkValue(
  model: ServiceModel,
  shapeName: string,
  value: unknown,
  path: string,
  violations: string[],
): void {
  const shape = model.shapes[shapeName]
  if (shape === undefined) {
    violations.push(`${path}: the model has no shape ${shapeName}`)
    return
  }
  const where = `${path} (${shapeName}, ${shape.type})`
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        violations.push(`${where} must be a JSON object, got ${describe(value)}`)
        return
      }
      const object = value as Record<string, unknown>
      const members = shape.members ?? {}
      for (const name of shape.required ?? []) {
        if (object[name] === undefined || object[name] === null)
          violations.push(`${where} lacks required ${name}`)
      }
      for (const [name, member] of Object.entries(object)) {
        const ref = members[name]
        if (ref === undefined) {
          violations.push(`${where} has ${name}, a member the model does not define`)
          continue
        }
        if (ref.location !== undefined) {
          violations.push(`${where}.${name} belongs in the ${ref.location}, not the body`)
          continue
        }
        if (member === null) {
          if (!NULL_ALLOWED.has(`${shapeName}.${name}`))
            violations.push(`${path}.${name} is null: an absent member must be left out`)
          continue
        }
        checkValue(model, ref.shape, member, `${path}.${name}`, violations)
      }
      return
    }
    case 'list': {
      if (!Array.isArray(value)) {
        violations.push(`${where} must be a JSON array, got ${describe(value)}`)
        return
      }
      checkSize(shape, value.length, where, 'entries', violations)
      value.forEach((item, index) => {
        checkValue(model, shape.member!.shape, item, `${path}[${index}]`, violations)
      })
      return
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        violations.push(`${where} must be a JSON object, got ${describe(value)}`)
        return
      }
      const entries = Object.entries(value as Record<string, unknown>)
      checkSize(shape, entries.length, where, 'entries', violations)
      for (const [key, item] of entries) {
        checkValue(model, shape.key!.shape, key, `${path} key ${describe(key)}`, violations)
        checkValue(model, shape.value!.shape, item, `${path}[${describe(key)}]`, violations)
      }
      return
    }
    case 'string': {
      if (typeof value !== 'string') {
        violations.push(`${where} must be a string, got ${describe(value)}`)
        return
      }
      checkString(shapeName, shape, value, where, violations)
      return
    }
    case 'integer':
    case 'long': {
      const [low, high] =
        shape.type === 'integer' ? [INT32_MIN, INT32_MAX] : [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]
      if (typeof value !== 'number' || !Number.isInteger(value) || value < low || value > high) {
        violations.push(`${where} must be a whole number, got ${describe(value)}`)
        return
      }
      if (shape.min !== undefined && value < shape.min)
        violations.push(`${where} is below ${shape.min}: ${value}`)
      if (shape.max !== undefined && value > shape.max)
        violations.push(`${where} is above ${shape.max}: ${value}`)
      return
    }
    case 'timestamp': {
      // rest-json bodies carry timestamps as epoch seconds (a JSON number, fractions allowed) unless the shape
      // says otherwise; none of these models does.
      if (shape.timestampFormat !== undefined && shape.timestampFormat !== 'unixTimestamp') {
        violations.push(`${where} has a timestampFormat (${shape.timestampFormat}) the check does not know`)
        return
      }
      if (
        typeof value !== 'number' ||
        !Number.isFinite(value) ||
        value < EPOCH_SECONDS_MIN ||
        value > EPOCH_SECONDS_MAX
      ) {
        violations.push(`${where} must be epoch seconds (a number in 1970..2100), got ${describe(value)}`)
      }
      return
    }
    case 'boolean':
      if (typeof value !== 'boolean') violations.push(`${where} must be a boolean, got ${describe(value)}`)
      return
    case 'double':
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value))
        violations.push(`${where} must be a number, got ${describe(value)}`)
      return
    default:
      violations.push(`${where}: a ${shape.type} cannot appear in a JSON body`)
  }
}

function checkSize(shape: Shape, size: number, where: string, unit: string, violations: string[]): void {
  if (shape.min !== undefined && size < shape.min)
    violations.push(`${where} has ${size} ${unit}, fewer than ${shape.min}`)
  if (shape.max !== undefined && size > shape.max)
    violations.push(`${where} has ${size} ${unit}, more than ${shape.max}`)
}

function checkString(
  shapeName: string,
  shape: Shape,
  value: string,
  where: string,
  violations: string[],
): void {
  if (MODEL_DEVIATIONS.some((deviation) => deviation.shape === shapeName && deviation.value === value)) return
  // Smithy lengths count Unicode code points.
  checkSize(shape, [...value].length, where, 'characters', violations)
  if (shape.enum !== undefined && !shape.enum.includes(value)) {
    violations.push(`${where} must be one of ${shape.enum.join(', ')}, got ${describe(value)}`)
  }
  if (shape.pattern !== undefined && !fullMatch(shape.pattern).test(value)) {
    violations.push(`${where} does not match the pattern ${shape.pattern}: ${describe(value)}`)
  }
}

function header(message: EmulatorResponseMessage, name: string): string | undefined {
  const value = message.headers[name.toLowerCase()]
  if (value === undefined) return undefined
  return Array.isArray(value) ? value.join(', ') : String(value)
}

function parseBody(message: EmulatorResponseMessage, label: string, violations: string[]): unknown {
  if (message.body === undefined || message.body === '') return undefined
  try {
    return JSON.parse(message.body)
  } catch {
    violations.push(`${label}: the body is not JSON: ${describe(message.body)}`)
    return undefined
  }
}

function checkJsonContentType(message: EmulatorResponseMessage, label: string, violations: string[]): void {
  const type = header(message, 'content-type')
  if (type === undefined || !/^application\/(?:x-amz-)?json\b/.test(type)) {
    violations.push(`${label}: a JSON body needs Content-Type application/json, got ${describe(type)}`)
  }
}

function checkSuccess(answered: Answered, message: EmulatorResponseMessage, violations: string[]): void {
  const label = `${answered.name} ${message.status}`
  const { model, operation } = answered
  if (operation === undefined) return // PutMedia: the ack stream, which no model describes.
  const output = operation.output === undefined ? undefined : model.shapes[operation.output.shape]
  const members = output?.members ?? {}
  const payload = output?.payload === undefined ? undefined : members[output.payload]
  // Members bound to headers.
  for (const [name, ref] of Object.entries(members)) {
    if (ref.location !== 'header') continue
    const value = header(message, ref.locationName ?? name)
    if (value === undefined) {
      if (output?.required?.includes(name)) violations.push(`${label}: lacks the ${ref.locationName} header`)
      continue
    }
    checkValue(model, ref.shape, value, `${label} header ${ref.locationName ?? name}`, violations)
  }
  if (payload !== undefined && model.shapes[payload.shape]?.streaming === true) return // A media body.
  const bodyMembers = Object.entries(members).filter(([, ref]) => ref.location === undefined)
  const body = parseBody(message, label, violations)
  if (bodyMembers.length === 0) {
    const empty =
      body === undefined ||
      (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0)
    if (!empty) violations.push(`${label}: the model has no output members, got the body ${describe(body)}`)
    return
  }
  if (body === undefined) {
    violations.push(`${label}: the model has output members but the body is empty`)
    return
  }
  checkJsonContentType(message, label, violations)
  checkValue(model, operation.output!.shape, body, answered.name, violations)
}

function checkError(
  answered: Answered | undefined,
  message: EmulatorResponseMessage,
  violations: string[],
): void {
  const label = `${answered?.name ?? message.path ?? 'a refused request'} ${message.status}`
  const typeHeader = header(message, 'x-amzn-ErrorType')
  if (typeHeader === undefined) {
    violations.push(`${label}: an error response without x-amzn-ErrorType`)
    return
  }
  const errorType = typeHeader.split(':')[0]!
  checkJsonContentType(message, label, violations)
  const body = parseBody(message, label, violations)
  const declared =
    answered === undefined
      ? []
      : answered.operation === undefined
        ? PUT_MEDIA_ERRORS
        : (answered.operation.errors ?? []).map((error) => error.shape)
  if (answered !== undefined && declared.includes(errorType)) {
    const shape = answered.model.shapes[errorType]!
    const status = shape.error?.httpStatusCode ?? 400
    if (message.status !== status)
      violations.push(`${label}: ${errorType} is HTTP ${status} in the model, got ${message.status}`)
    checkValue(answered.model, errorType, body ?? {}, `${label} ${errorType}`, violations)
    return
  }
  const common = COMMON_ERRORS[errorType]
  if (common === undefined) {
    violations.push(
      `${label}: ${errorType} is neither an error of ${answered?.name ?? 'this path'} in the model nor a common AWS error`,
    )
    return
  }
  if (message.status !== common)
    violations.push(`${label}: ${errorType} is HTTP ${common}, got ${message.status}`)
  const object = body as Record<string, unknown> | undefined
  const keys = object === undefined || typeof object !== 'object' ? [] : Object.keys(object)
  if (
    keys.length !== 1 ||
    (keys[0] !== 'Message' && keys[0] !== 'message') ||
    typeof object![keys[0]] !== 'string'
  ) {
    violations.push(`${label}: a ${errorType} body must be {"Message": string}, got ${describe(body)}`)
  }
}

/** Checks one response the emulator sent; returns the violations (none: the response fits the model). */
export function checkResponse(message: EmulatorResponseMessage): string[] {
  const violations: string[] = []
  const answered = message.path === undefined ? undefined : operationFor(message.path)
  if (header(message, 'x-amzn-RequestId') === undefined) {
    violations.push(`${answered?.name ?? message.path} ${message.status}: no x-amzn-RequestId header`)
  }
  // The console (the `console` option): the page and its JSON API are no KVS operation; its errors are AWS-shaped.
  if (message.operation?.startsWith('Console')) {
    if (message.status >= 300) checkJsonContentType(message, `${message.path} ${message.status}`, violations)
    return violations
  }
  if (message.path !== undefined && SESSION_RESOURCES[message.path] !== undefined) {
    checkSessionResource(message, violations)
    return violations
  }
  if (message.status >= 300) checkError(answered, message, violations)
  else if (answered === undefined)
    violations.push(`${message.path}: a ${message.status} for no operation of the models`)
  else if (message.status !== 200) violations.push(`${answered.name}: status ${message.status}, expected 200`)
  else checkSuccess(answered, message, violations)
  return violations
}
