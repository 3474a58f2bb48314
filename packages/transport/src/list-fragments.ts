import { invalidOption, isNumberWithin } from '@kvs-streams/core'
import { KvsProtocolError } from './errors.ts'
import { toEpochSeconds } from './get-media.ts'
import { type DataPlaneOptions, resolveDataPlaneOptions, streamMember } from './options.ts'
import { readJson, sendSignedJson } from './signed-request.ts'

/** Which fragments to list. @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_reader_FragmentSelector.html */
export interface FragmentSelector {
  FragmentSelectorType: 'PRODUCER_TIMESTAMP' | 'SERVER_TIMESTAMP'
  /** Inclusive range on fragment start times: `Date`s, or epoch seconds as on the wire. */
  TimestampRange: { StartTimestamp: Date | number; EndTimestamp: Date | number }
}

/** One fragment as ListFragments returns it (timestamps as `Date`s, as the AWS SDK returns them). */
export interface Fragment {
  FragmentNumber: string
  FragmentSizeInBytes?: number
  ProducerTimestamp?: Date
  ServerTimestamp?: Date
  FragmentLengthInMilliseconds?: number
}

/** One page of ListFragments. */
export interface ListFragmentsOutput {
  /** The fragments of this page, in no particular order (the service does not sort them). */
  Fragments: Fragment[]
  /** Pass as `nextToken` for the next page; absent on the last one. */
  NextToken?: string
}

interface ListFragmentsOwnOptions extends DataPlaneOptions {
  /** 1–1000 fragments per page. */
  maxResults?: number
  nextToken?: string
  fragmentSelector?: FragmentSelector
}

/** Options of `listFragments`. */
export type ListFragmentsOptions = ListFragmentsOwnOptions & ({ streamName: string } | { streamArn: string })

function toDate(value: unknown): Date | undefined {
  return typeof value === 'number' ? new Date(value * 1000) : undefined
}

/**
 * ListFragments (`POST {endpoint}/listFragments` on the LIST_FRAGMENTS data endpoint): one page of fragments.
 * Rejects with `KvsHttpError` for an error response, and with the transport's timeout/abort/connection errors.
 *
 * Rejects with a `TypeError` on a bad option.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_reader_ListFragments.html
 */
export async function listFragments(options: ListFragmentsOptions): Promise<ListFragmentsOutput> {
  const resolved = resolveDataPlaneOptions(options)
  const { maxResults, nextToken, fragmentSelector } = options
  const body: Record<string, unknown> = streamMember(options)
  if (maxResults !== undefined) {
    if (!isNumberWithin(maxResults, { integer: true, min: 1 }) || maxResults > 1000) {
      throw invalidOption('maxResults', 'an integer from 1 to 1000', maxResults)
    }
    body.MaxResults = maxResults
  }
  if (nextToken !== undefined) {
    if (typeof nextToken !== 'string') throw invalidOption('nextToken', 'a string', nextToken)
    body.NextToken = nextToken
  }
  if (fragmentSelector !== undefined) {
    const type = fragmentSelector?.FragmentSelectorType
    if (type !== 'PRODUCER_TIMESTAMP' && type !== 'SERVER_TIMESTAMP') {
      throw invalidOption(
        'fragmentSelector.FragmentSelectorType',
        'PRODUCER_TIMESTAMP | SERVER_TIMESTAMP',
        type,
      )
    }
    const range = fragmentSelector.TimestampRange
    if (typeof range !== 'object' || range === null) {
      throw invalidOption('fragmentSelector.TimestampRange', 'an object', range)
    }
    body.FragmentSelector = {
      FragmentSelectorType: type,
      TimestampRange: {
        StartTimestamp: toEpochSeconds(
          'fragmentSelector.TimestampRange.StartTimestamp',
          range.StartTimestamp,
        ),
        EndTimestamp: toEpochSeconds('fragmentSelector.TimestampRange.EndTimestamp', range.EndTimestamp),
      },
    }
  }
  const response = await sendSignedJson(resolved, {
    operation: 'listFragments',
    body,
    bodyTimeoutMs: 300_000,
  })
  const json = (await readJson(response)) as { Fragments?: unknown; NextToken?: unknown }
  const fragments = Array.isArray(json.Fragments) ? json.Fragments : []
  return {
    Fragments: fragments.map((raw: Record<string, unknown>) => {
      const fragment: Fragment = { FragmentNumber: String(raw.FragmentNumber) }
      if (typeof raw.FragmentSizeInBytes === 'number') fragment.FragmentSizeInBytes = raw.FragmentSizeInBytes
      const producer = toDate(raw.ProducerTimestamp)
      if (producer !== undefined) fragment.ProducerTimestamp = producer
      const server = toDate(raw.ServerTimestamp)
      if (server !== undefined) fragment.ServerTimestamp = server
      if (typeof raw.FragmentLengthInMilliseconds === 'number') {
        fragment.FragmentLengthInMilliseconds = raw.FragmentLengthInMilliseconds
      }
      return fragment
    }),
    ...(typeof json.NextToken === 'string' ? { NextToken: json.NextToken } : {}),
  }
}

/** Options of `listAllFragments`: those of `listFragments` without `nextToken`; `maxResults` is the page size. */
export type ListAllFragmentsOptions = Omit<ListFragmentsOwnOptions, 'nextToken'> &
  ({ streamName: string } | { streamArn: string })

/**
 * Every fragment ListFragments selects, page after page, as an async iterable: each page is requested only
 * when the fragments of the one before have been consumed (`maxResults`, 1–1000, is the page size), in the
 * order the service lists them (unsorted). Breaking out of the loop stops the listing; `signal` aborts the
 * request in flight. Errors are those of `listFragments`, plus `KvsProtocolError` when the service returns a
 * `NextToken` it already returned in this listing.
 *
 * ```ts
 * for await (const fragment of listAllFragments({ endpoint, streamName, signer })) console.log(fragment.FragmentNumber)
 * ```
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_reader_ListFragments.html
 */
export async function* listAllFragments(
  options: ListAllFragmentsOptions,
): AsyncGenerator<Fragment, void, undefined> {
  if ((options as { nextToken?: unknown }).nextToken !== undefined) {
    throw invalidOption(
      'nextToken',
      'absent (listAllFragments follows the pages itself)',
      (options as { nextToken?: unknown }).nextToken,
    )
  }
  const seen = new Set<string>()
  let nextToken: string | undefined
  do {
    const page = await listFragments(nextToken === undefined ? options : { ...options, nextToken })
    yield* page.Fragments
    // An empty token ends the listing too (some AWS APIs send "" on the last page).
    nextToken = page.NextToken === '' ? undefined : page.NextToken
    if (nextToken !== undefined) {
      if (seen.has(nextToken)) {
        throw new KvsProtocolError(
          `ListFragments returned the NextToken ${JSON.stringify(nextToken.slice(0, 64))} twice`,
        )
      }
      seen.add(nextToken)
    }
  } while (nextToken !== undefined)
}
