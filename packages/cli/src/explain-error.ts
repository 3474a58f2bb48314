import { exceptionCategory } from '@kvs-streams/transport'
import { adviseAckError } from './ack-advice.ts'
import { CliError } from './errors.ts'
import { ExitCode, type ExitCodeValue } from './exit-codes.ts'
import { formatDuration } from './format.ts'

/** What the command was doing when it failed, for the message. */
export interface ErrorContext {
  /** The `kvs` command line words, e.g. `put` or `streams create` (`put --many` for one stream of a fleet). */
  command?: string | undefined
  streamName?: string | undefined
  region?: string | undefined
  /** The endpoint override in use (`--endpoint-url`, `AWS_ENDPOINT_URL`), and where it came from. */
  endpoint?: { value: string; source: string } | undefined
  profile?: string | undefined
  /** The command prints JSON lines on stdout (`--json`, or `kvs put` with stdout not a terminal). */
  jsonOutput?: boolean | undefined
  /** stdout carries media (`kvs get -o -`): no JSON error line goes there. */
  stdoutIsMedia?: boolean | undefined
}

/** A failure as `kvs` prints it: a one-line message, lines of advice, and the exit status. */
export interface ExplainedError {
  message: string
  hints: string[]
  exitCode: ExitCodeValue
  /** The AWS exception name or error code, when there is one (for `--json` output). */
  name: string | undefined
  requestId: string | undefined
}

interface ErrorFields {
  name?: unknown
  code?: unknown
  message?: unknown
  cause?: unknown
  errors?: unknown
  errorType?: unknown
  requestId?: unknown
  status?: unknown
  address?: unknown
  port?: unknown
  hostname?: unknown
  path?: unknown
  syscall?: unknown
  timeoutMs?: unknown
  errorId?: unknown
  $metadata?: { httpStatusCode?: number; requestId?: string }
}

/** `error`, its `cause`s and the members of `AggregateError`s, outermost first. */
function chainOf(error: unknown): ErrorFields[] {
  const chain: ErrorFields[] = []
  const queue: unknown[] = [error]
  while (queue.length > 0 && chain.length < 20) {
    const current = queue.shift()
    if (typeof current !== 'object' || current === null || chain.includes(current as ErrorFields)) continue
    const fields = current as ErrorFields
    chain.push(fields)
    if (fields.cause !== undefined) queue.push(fields.cause)
    if (Array.isArray(fields.errors)) queue.push(...fields.errors)
  }
  return chain
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined

/** The AWS exception name of a service error (AWS SDK `ServiceException` or transport `KvsHttpError`). */
function serviceErrorName(fields: ErrorFields): string | undefined {
  if (fields.code === 'ERR_KVS_HTTP') return text(fields.errorType) ?? `HTTP ${String(fields.status)}`
  if (fields.$metadata !== undefined && typeof fields.$metadata.httpStatusCode === 'number')
    return text(fields.name)
  return undefined
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
])

const CREDENTIAL_HINTS = [
  'Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials),',
  'or name a profile from ~/.aws/credentials or ~/.aws/config with --profile or AWS_PROFILE',
  '(aws configure, or aws sso login for an SSO profile).',
  'For the local emulator (kvs emulator): AWS_ACCESS_KEY_ID=AKIDKVSEMULATOR AWS_SECRET_ACCESS_KEY=kvs-emulator-secret',
]

function where(context: ErrorContext): string {
  const parts = [
    ...(context.region === undefined ? [] : [`region ${context.region}`]),
    ...(context.endpoint === undefined ? [] : [`endpoint ${context.endpoint.value}`]),
  ]
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`
}

function stream(context: ErrorContext): string {
  return context.streamName === undefined ? 'The stream' : `Stream ${JSON.stringify(context.streamName)}`
}

/**
 * Maps any error `kvs` can meet to the message, advice and exit status it prints: the one place where typed
 * errors (AWS SDK exceptions, transport, signer, chunker and credential-provider errors, socket errors, ERROR
 * acknowledgements) become words.
 */
export function explainError(error: unknown, context: ErrorContext = {}): ExplainedError {
  const chain = chainOf(error)
  const top = chain[0] ?? {}
  const message = text(top.message) ?? String(error)
  const result = (
    exitCode: ExitCodeValue,
    line: string,
    hints: string[] = [],
    name: string | undefined = text(top.code) ?? text(top.name),
    requestId: string | undefined = undefined,
  ): ExplainedError => ({ message: line, hints, exitCode, name, requestId })

  if (CliError.is(error)) {
    if (error.code === 'ERR_KVS_CLI_ERROR_ACK' && error.errorId !== undefined) {
      const advice = adviseAckError(error.errorId)
      return result(
        error.exitCode ?? ExitCode.MediaRejected,
        error.message,
        [...error.hints, ...advice.advice],
        error.code,
      )
    }
    const exitCode =
      error.exitCode ??
      (error.code === 'ERR_KVS_CLI_USAGE'
        ? ExitCode.Usage
        : error.code === 'ERR_KVS_CLI_NO_REGION' || error.code === 'ERR_KVS_CLI_PROFILE_NOT_FOUND'
          ? ExitCode.Configuration
          : ExitCode.Other)
    return result(exitCode, error.message, [...error.hints], error.code)
  }

  // GetMedia kept failing for --retry-for (kvs get printed what it wrote and where to resume): the last failure,
  // how long it was retried, and a status of its own, since the output is whole and the read can go on later.
  if (top.code === 'ERR_KVS_GETMEDIA_RETRIES_EXHAUSTED' && top.cause !== undefined) {
    const last = explainError(top.cause, context)
    const { failures, retriedForMs } = top as { failures?: unknown; retriedForMs?: unknown }
    const during = typeof retriedForMs === 'number' ? ` for ${formatDuration(retriedForMs)}` : ''
    const count = typeof failures === 'number' ? ` (${failures} failed connections)` : ''
    return {
      ...last,
      message: `Gave up reconnecting to GetMedia after retrying${during}${count}. Last error: ${last.message}`,
      hints: [
        'What was written ends on a whole fragment: go on with the "resume with" command above.',
        '--retry-for sets how long kvs get keeps reconnecting (default 60s).',
        // The advice of a service error still applies (throttling, permissions); a connection's is the above.
        ...(last.exitCode === ExitCode.Service ? last.hints : []),
      ],
      exitCode: ExitCode.RetriesExhausted,
      name: 'ERR_KVS_GETMEDIA_RETRIES_EXHAUSTED',
    }
  }

  // The producer gave up after repeated failures: explain the last one.
  if (top.code === 'ERR_KVS_PRODUCER_TOO_MANY_FAILURES' && top.cause !== undefined) {
    const last = explainError(top.cause, context)
    const { attempts, failures } = top as { attempts?: unknown; failures?: unknown }
    const count =
      typeof attempts === 'number' ? attempts : typeof failures === 'number' ? failures : 'repeated'
    return { ...last, message: `Gave up after ${count} failed attempts. ${last.message}` }
  }

  // The chunker refused the input before it was sent (directly, or through the producer).
  const chunkerError = chain.find(
    (fields) =>
      fields.name === 'ChunkerError' ||
      (typeof fields.code === 'string' && fields.code.startsWith('ERR_KVS_CHUNKER_')),
  )
  const ebmlError = chain.find(
    (fields) =>
      fields.name === 'EbmlError' ||
      (typeof fields.code === 'string' && fields.code.startsWith('ERR_KVS_EBML_')),
  )
  if (chunkerError !== undefined) {
    const top = chunkerError
    const message = text(top.message) ?? String(top)
    if (top.code === 'ERR_KVS_CHUNKER_NOT_MKV') {
      return result(ExitCode.MediaRejected, `The input is not Matroska (MKV/WebM): ${message}`, [
        'kvs put sends Matroska. Remux other containers first, e.g.:',
        '  ffmpeg -i input.mp4 -c copy -f matroska - | kvs put <stream> -',
      ])
    }
    const errorId = typeof top.errorId === 'number' ? top.errorId : undefined
    const advice = errorId === undefined ? [] : adviseAckError(errorId).advice
    const id =
      errorId === undefined ? '' : ` (KVS would answer ERROR ${errorId} ${adviseAckError(errorId).errorCode})`
    return result(
      ExitCode.MediaRejected,
      `The input breaks a KVS rule, nothing more was sent${id}: ${message}`,
      [...advice],
    )
  }
  if (ebmlError !== undefined) {
    return result(
      ExitCode.MediaRejected,
      `The input is not valid Matroska: ${text(ebmlError.message) ?? ''}`,
      [
        'Check it with ffprobe or mkvinfo; a file still being written may be cut in the middle of an element.',
      ],
    )
  }

  // No credentials, unknown profile, expired credentials.
  const credentialError = chain.find(
    (fields) =>
      fields.name === 'CredentialsProviderError' || fields.code === 'ERR_KVS_CREDENTIALS_UNAVAILABLE',
  )
  if (credentialError !== undefined) {
    const detail = chain
      .map((fields) => text(fields.message) ?? '')
      .find((line) => /profile/i.test(line) && /not|could/i.test(line))
    if (detail !== undefined && context.profile !== undefined) {
      return result(
        ExitCode.Configuration,
        `The profile ${JSON.stringify(context.profile)} could not be found or has no credentials: ${detail}`,
        [
          'Profiles live in ~/.aws/credentials and ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE);',
          'list them with: aws configure list-profiles',
        ],
        'CredentialsProviderError',
      )
    }
    return result(
      ExitCode.Configuration,
      'Unable to locate credentials.',
      [...CREDENTIAL_HINTS],
      'CredentialsProviderError',
    )
  }
  if (chain.some((fields) => fields.code === 'ERR_KVS_CREDENTIALS_EXPIRED')) {
    return result(ExitCode.Configuration, 'The credentials have expired.', [
      'Refresh them (aws sso login, a new session token in AWS_SESSION_TOKEN) and run the command again.',
    ])
  }

  // The service answered with an error.
  for (const fields of chain) {
    const name = serviceErrorName(fields)
    if (name === undefined) continue
    const requestId = text(fields.requestId) ?? text(fields.$metadata?.requestId)
    const serviceMessage = text(fields.message) ?? name
    return explainServiceError(name, serviceMessage, requestId, context)
  }

  // ERROR acks reported by other layers (the producer's own error classes) carry an errorId.
  const ackError = chain.find((fields) => typeof fields.errorId === 'number' && fields.errorId >= 4000)
  if (ackError !== undefined) {
    const advice = adviseAckError(ackError.errorId as number)
    return result(
      ExitCode.MediaRejected,
      `ERROR ${String(ackError.errorId)} ${advice.errorCode}: ${advice.meaning}`,
      [...advice.advice],
      advice.errorCode,
    )
  }

  // Timeouts of the transport.
  const timeout = chain.find(
    (fields) => fields.code === 'ERR_KVS_CONNECT_TIMEOUT' || fields.code === 'ERR_KVS_ACK_STALE',
  )
  if (timeout !== undefined) {
    const seconds = typeof timeout.timeoutMs === 'number' ? `${timeout.timeoutMs / 1000} s` : 'too long'
    return timeout.code === 'ERR_KVS_CONNECT_TIMEOUT'
      ? result(ExitCode.Other, `Could not connect within ${seconds}${where(context)}.`, [
          'Check your network, proxy and firewall, and that --region names a region where KVS is available.',
        ])
      : result(
          ExitCode.Other,
          `The service sent no acknowledgement for ${seconds} while data was being sent${where(context)}.`,
          [
            'The connection looks stale (network trouble, or a proxy buffering the response); run the command again.',
          ],
        )
  }

  // Socket failures.
  const socket = chain.find((fields) => typeof fields.code === 'string' && CONNECTION_CODES.has(fields.code))
  if (socket !== undefined) return explainSocketError(socket, context)
  if (chain.some((fields) => fields.code === 'ERR_KVS_CONNECTION')) {
    return result(ExitCode.Other, `The connection failed${where(context)}: ${message}`, [
      'Run the command again; if the service ended the session, the acknowledgement before this error says why.',
    ])
  }

  // Local files.
  const fileError = chain.find((fields) => typeof fields.path === 'string' && typeof fields.code === 'string')
  if (fileError !== undefined) {
    const path = fileError.path as string
    const line =
      fileError.code === 'ENOENT'
        ? `No such file or directory: ${path}`
        : fileError.code === 'EACCES' || fileError.code === 'EPERM'
          ? `Permission denied: ${path}`
          : fileError.code === 'EISDIR'
            ? `Is a directory: ${path}`
            : `${String(fileError.code)}: ${path}`
    return result(ExitCode.Other, line, [], text(fileError.code))
  }

  return result(ExitCode.Other, message)
}

function explainServiceError(
  name: string,
  message: string,
  requestId: string | undefined,
  context: ErrorContext,
): ExplainedError {
  const service = (line: string, hints: string[] = []): ExplainedError => ({
    message: line,
    hints: requestId === undefined ? hints : [...hints, `Request id: ${requestId}`],
    exitCode: ExitCode.Service,
    name,
    requestId,
  })
  const region = context.region ?? 'your region'
  // Advice for one exception name first; then by the category of the transport's exception table, the one
  // the producer and readStream retry by.
  switch (name) {
    case 'ResourceInUseException':
      return service(`${message}`, [
        ...(context.command === 'streams create'
          ? ['Pick another name, or delete the stream first: kvs streams delete <stream>']
          : []),
      ])
    case 'InvalidSignatureException':
    case 'SignatureDoesNotMatch':
    case 'IncompleteSignature':
    case 'IncompleteSignatureException':
      if (/scope|region/i.test(message)) {
        return service(`The request was signed for the wrong region: ${message}`, [
          `kvs signed for ${region}; pass the endpoint's region with --region (the emulator uses us-east-1).`,
        ])
      }
      // The service's message goes on with its canonical request and string to sign: --debug prints them.
      return service(`The request signature does not match: ${message.split(/\n\s*\n/)[0]!.trim()}`, [
        'The secret access key does not belong to the access key id: check AWS_SECRET_ACCESS_KEY or the',
        "profile's aws_secret_access_key. A system clock more than 5 minutes off also breaks signatures.",
      ])
    case 'UnrecognizedClientException':
    case 'InvalidClientTokenId':
    case 'MissingAuthenticationToken':
    case 'MissingAuthenticationTokenException':
      return service(`The access key id or security token is not recognised${where(context)}: ${message}`, [
        'Check AWS_ACCESS_KEY_ID (or the profile), and AWS_SESSION_TOKEN for temporary credentials.',
        `If the keys work elsewhere, the region may be wrong or not enabled for your account: check --region (${region}).`,
      ])
    case 'ClientLimitExceededException':
    case 'ConnectionLimitExceededException':
    case 'ThrottlingException':
    case 'LimitExceededException':
      return service(`Throttled by the service: ${message}`, [
        'KVS allows 5 PutMedia and 5 GetMedia calls per second per stream, one writer and 3 GetMedia readers',
        'at a time per stream. Wait a moment and run the command again; stop other readers or writers.',
      ])
    case 'AccountStreamLimitExceededException':
      return service(`Too many streams in this account: ${message}`, [
        'Delete streams you no longer need (kvs streams delete), or ask AWS for a higher quota.',
      ])
  }
  switch (exceptionCategory(name)) {
    case 'fatal-not-found': {
      const streamName = context.streamName ?? '<stream>'
      return service(`${stream(context)} was not found${where(context)}.`, [
        `Create it with: kvs streams create ${streamName} --retention-hours 24`,
        ...(context.command === 'put'
          ? [`or let kvs put create it: kvs put ${streamName} --create ...`]
          : context.command === 'put --many'
            ? ['or let kvs put --many create the streams of its list that do not exist: add --create']
            : []),
        `If it exists in another region, pass that region (--region); kvs streams list --region ${region} shows the streams here.`,
      ])
    }
    case 'new-endpoint':
      return service(`The data endpoint does not serve this stream: ${message}`, [
        `--region must be the stream's region (now ${region}). kvs finds the data endpoint with GetDataEndpoint;`,
        '--endpoint-url takes the control-plane endpoint (https://kinesisvideo.<region>.amazonaws.com), not a data endpoint.',
      ])
    case 'fatal-auth':
      return service(`Not authorized: ${message}`, [
        'Your identity needs kinesisvideo permissions on the stream: DescribeStream, GetDataEndpoint and PutMedia',
        '(CreateStream for --create) to put; GetDataEndpoint and GetMedia to get. Check which identity you use with:',
        '  aws sts get-caller-identity',
      ])
    case 'refresh-credentials':
      return service(`The credentials or the request have expired: ${message}`, [
        'Refresh the credentials (aws sso login, a new session token) and check the system clock.',
      ])
    case 'fatal-rejected':
      return service(`The service rejected the request: ${message}`)
    case 'retry':
      return service(`${name}: ${message}`, ['A transient failure of the service: run the command again.'])
    default:
      return service(`${name}: ${message}`)
  }
}

function explainSocketError(socket: ErrorFields, context: ErrorContext): ExplainedError {
  const target =
    typeof socket.address === 'string'
      ? `${socket.address}${typeof socket.port === 'number' ? `:${socket.port}` : ''}`
      : (text(socket.hostname) ?? context.endpoint?.value ?? 'the service')
  const endpoint = context.endpoint
  const emulatorHint =
    endpoint === undefined
      ? []
      : [
          `The endpoint ${endpoint.value} comes from ${endpoint.source}. Is the emulator running there?`,
          'Start one with: kvs emulator   (it listens on http://127.0.0.1:4567)',
        ]
  const result = (line: string, hints: string[]): ExplainedError => ({
    message: line,
    hints,
    exitCode: ExitCode.Other,
    name: text(socket.code),
    requestId: undefined,
  })
  switch (socket.code) {
    case 'ECONNREFUSED':
      return result(`Could not connect to ${target}: connection refused.`, emulatorHint)
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return result(`Could not resolve ${target}.`, [
        endpoint === undefined
          ? `Check the region (${context.region ?? 'none'}) and your DNS/network.`
          : `Check ${endpoint.source} (${endpoint.value}) and your DNS/network.`,
      ])
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return result(`Could not reach ${target} (${String(socket.code)}).`, [
        'Check your network, proxy and firewall.',
        ...emulatorHint,
      ])
    default:
      return result(
        `The connection to ${target} failed (${String(socket.code)}): ${text(socket.message) ?? ''}`.trim(),
        ['Run the command again.'],
      )
  }
}
