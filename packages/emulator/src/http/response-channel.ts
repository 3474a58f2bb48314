import { channel } from 'node:diagnostics_channel'
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'

/**
 * Name of the `node:diagnostics_channel` on which the emulator publishes every response it sends (an
 * {@link EmulatorResponseMessage}), as undici publishes its requests: for logging, recording and tests (the
 * emulator's own suite checks each one against the service models). Nothing is collected while the channel
 * has no subscriber.
 * @see https://nodejs.org/api/diagnostics_channel.html
 */
export const EMULATOR_RESPONSE_CHANNEL = 'kvs-streams:emulator:response'

/** One response of the emulator, published once its head is on the wire and the response is over. */
export interface EmulatorResponseMessage {
  /** Request path (`/listFragments`); `undefined` for a request Node's HTTP parser refused. */
  path: string | undefined
  /** The operation of the path (`ListFragments`), or `undefined` when no operation matched. */
  operation: string | undefined
  /** The `x-amzn-RequestId` of the response. */
  requestId: string
  status: number
  /** Response headers, lower-case names. */
  headers: Readonly<OutgoingHttpHeaders>
  /** The whole body of a JSON response (success or error); `undefined` for media and ack streams. */
  body: string | undefined
}

const responses = channel(EMULATOR_RESPONSE_CHANNEL)
/** JSON bodies of responses in flight, kept only while someone listens. */
const bodies = new WeakMap<ServerResponse, string>()

/** Remembers the JSON body of a response for its message. */
export function recordResponseBody(response: ServerResponse, body: string): void {
  if (responses.hasSubscribers) bodies.set(response, body)
}

/**
 * Publishes the response on {@link EMULATOR_RESPONSE_CHANNEL} when it is over (finished or closed), if its
 * head was sent: a request whose client vanished before any answer publishes nothing.
 */
export function observeResponse(
  response: ServerResponse,
  path: string,
  operation: string | undefined,
  requestId: string,
): void {
  if (!responses.hasSubscribers) return
  let published = false
  const publish = () => {
    if (published || !response.headersSent) return
    published = true
    responses.publish({
      path,
      operation,
      requestId,
      status: response.statusCode,
      headers: response.getHeaders(),
      body: bodies.get(response),
    } satisfies EmulatorResponseMessage)
  }
  response.once('finish', publish)
  response.once('close', publish)
}

/** Publishes a response written straight to the socket (a request Node's HTTP parser refused). */
export function publishRawResponse(message: EmulatorResponseMessage): void {
  if (responses.hasSubscribers) responses.publish(message)
}
