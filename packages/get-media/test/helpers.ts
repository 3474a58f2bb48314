import { createGetMediaParser, type GetMediaEvent, type GetMediaParserOptions } from '../src/index.ts'
import type { ExpectedFragment } from './expected-captures.ts'

/**
 * Every event a parser gives for `chunks` (calling `end()` again when it returned events, as the adapters do,
 * to get an error it held back); the error, if any.
 */
export function parseAll(
  chunks: readonly Uint8Array[],
  options?: GetMediaParserOptions,
): { events: GetMediaEvent[]; error: unknown } {
  const parser = createGetMediaParser(options)
  const events: GetMediaEvent[] = []
  try {
    for (const chunk of chunks) events.push(...parser.push(chunk))
    const trailing = parser.end()
    events.push(...trailing)
    if (trailing.length > 0) events.push(...parser.end())
  } catch (error) {
    return { events, error }
  }
  return { events, error: undefined }
}

/** Like {@link parseAll} but fails on an error. */
export function parseOk(chunks: readonly Uint8Array[], options?: GetMediaParserOptions): GetMediaEvent[] {
  const { events, error } = parseAll(chunks, options)
  if (error !== undefined) throw error
  return events
}

/**
 * A compact string standing for the events: one line per event, frames by their fields, byte length and a
 * running FNV-1a hash of their bytes (raw fragments likewise). Cheap enough to compare for every split
 * offset of a file; equal strings mean equal events.
 */
export function fingerprint(events: readonly GetMediaEvent[]): string {
  let hash = 0x811c9dc5
  const lines: string[] = []
  const mix = (bytes: Uint8Array) => {
    for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193)
  }
  for (const event of events) {
    if (event.type === 'frame') {
      mix(event.data)
      lines.push(
        `frame ${event.track} ${event.timestampMs} ${event.keyframe} ${event.durationMs} ${event.lacing} ${event.data.length} ${hash >>> 0}`,
      )
    } else if (event.type === 'fragment') {
      for (const part of event.parts) mix(part)
      const { parts, ...rest } = event
      lines.push(`${stringify(rest)} ${hash >>> 0}`)
    } else if (event.type === 'service-error') {
      const { errorId, errorCode, serviceMessage, fragmentNumber, offset, message } = event.error
      lines.push(
        stringify({
          type: 'service-error',
          errorId,
          errorCode,
          serviceMessage,
          fragmentNumber,
          offset,
          message,
        }),
      )
    } else {
      lines.push(stringify(event))
    }
  }
  return lines.join('\n')
}

function stringify(value: unknown): string {
  return JSON.stringify(value, (_key, item) => (item instanceof Uint8Array ? Array.from(item) : item))
}

/** What the events say about each fragment, in the shape of {@link ExpectedFragment} (minus the tag strings and clusters). */
export type FragmentSummary = Omit<
  ExpectedFragment,
  'serverTimestamp' | 'producerTimestamp' | 'clusterTimecodes'
> & {
  complete: boolean
}

/** Summarises frame-mode events per fragment, checking that they nest as fragment-start, frame…, fragment-end. */
export function summarize(events: readonly GetMediaEvent[]): FragmentSummary[] {
  const fragments: FragmentSummary[] = []
  let current: FragmentSummary | undefined
  for (const event of events) {
    if (event.type === 'fragment-start') {
      if (current !== undefined) throw new Error('fragment-start inside a fragment')
      current = {
        fragmentNumber: event.fragmentNumber,
        serverTimestampMs: event.serverTimestampMs,
        producerTimestampMs: event.producerTimestampMs,
        millisBehindNow: undefined,
        continuationToken: undefined,
        byteLength: 0,
        frameCount: 0,
        keyframes: 0,
        firstMs: undefined,
        lastMs: undefined,
        timestampSumMs: 0,
        frameBytes: 0,
        tags: {},
        complete: false,
      }
    } else if (event.type === 'frame') {
      if (current === undefined) throw new Error('frame outside a fragment')
      current.frameCount++
      if (event.keyframe) current.keyframes++
      current.firstMs ??= event.timestampMs
      current.lastMs = event.timestampMs
      current.timestampSumMs += event.timestampMs
      current.frameBytes += event.data.length
    } else if (event.type === 'fragment-end') {
      if (current === undefined) throw new Error('fragment-end outside a fragment')
      if (event.frameCount !== current.frameCount)
        throw new Error('fragment-end frameCount differs from the frames')
      if (event.fragmentNumber !== current.fragmentNumber && current.fragmentNumber !== undefined) {
        throw new Error('fragment-end fragmentNumber differs from fragment-start')
      }
      current.fragmentNumber = event.fragmentNumber
      current.millisBehindNow = event.millisBehindNow
      current.continuationToken = event.continuationToken
      current.byteLength = event.byteLength
      current.tags = { ...event.tags }
      current.complete = event.complete
      fragments.push(current)
      current = undefined
    }
  }
  if (current !== undefined) throw new Error('fragment-start without fragment-end')
  return fragments
}

/** The expected summary of a capture's fragments, from the mkvinfo literals. */
export function expectedSummary(expected: readonly ExpectedFragment[]): FragmentSummary[] {
  return expected.map(({ serverTimestamp, producerTimestamp, clusterTimecodes, ...rest }) => ({
    ...rest,
    complete: rest.continuationToken !== undefined,
  }))
}

/** A small deterministic PRNG (Mulberry32) for hand-rolled random choices in tests. */
export function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Joins parts into one array. */
export function join(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/** Whether two byte arrays hold the same bytes (fast for MB-sized arrays, unlike a deep `toEqual`). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0
}
