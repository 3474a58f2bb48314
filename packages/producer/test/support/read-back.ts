import { concatBytes } from '@kvs-streams/core'
import { createEbmlReader, ElementId } from '@kvs-streams/ebml'
import { createGetMediaParser } from '@kvs-streams/get-media'
import { createKvsSigner } from '@kvs-streams/signer'
import { getMedia, listFragments } from '@kvs-streams/transport'
import { sha256 } from './media.ts'
import { credentials } from './services.ts'

type KeyPair = { accessKeyId: string; secretAccessKey: string }

/** The Cluster element of one GetMedia chunk (an MKV document: header, KVS tags, Info, Tracks, Cluster, Tags). */
export function clusterOf(document: Uint8Array): Uint8Array {
  const reader = createEbmlReader({ dataMode: () => 'skip' })
  let start: number | undefined
  for (const event of [...reader.push(document), ...reader.end()]) {
    if (event.type === 'element-start' && event.id === ElementId.Cluster) start = event.offset
    if (event.type === 'element-end' && event.id === ElementId.Cluster && start !== undefined) {
      return document.subarray(start, event.end)
    }
  }
  throw new Error('no Cluster in the GetMedia chunk')
}

/** How many fragments the stream holds, by ListFragments (every page). */
export async function countStored(
  url: string,
  region: string,
  streamName: string,
  keyPair: KeyPair = credentials(),
): Promise<number> {
  const signer = createKvsSigner({ region, credentials: keyPair })
  let total = 0
  let nextToken: string | undefined
  do {
    const page = await listFragments({
      endpoint: url,
      streamName,
      signer,
      maxResults: 1000,
      ...(nextToken === undefined ? {} : { nextToken }),
    })
    total += page.Fragments.length
    nextToken = page.NextToken
  } while (nextToken !== undefined)
  return total
}

/**
 * SHA-256 of the cluster bytes of every fragment the stream holds, read back the way a consumer would: GetMedia
 * from EARLIEST (`@kvs-streams/transport`), parsed in raw mode (`@kvs-streams/get-media`), until as many
 * fragments as ListFragments counts have arrived (GetMedia stays open for live data).
 */
export async function readBackClusterHashes(
  url: string,
  region: string,
  streamName: string,
  keyPair: KeyPair = credentials(),
): Promise<string[]> {
  const total = await countStored(url, region, streamName, keyPair)
  const hashes: string[] = []
  if (total === 0) return hashes
  const body = await getMedia({
    endpoint: url,
    streamName,
    signer: createKvsSigner({ region, credentials: keyPair }),
    startSelector: { StartSelectorType: 'EARLIEST' },
    signal: AbortSignal.timeout(20_000),
  })
  const parser = createGetMediaParser({ mode: 'raw' })
  try {
    for await (const chunk of body) {
      for (const event of parser.push(chunk as Uint8Array)) {
        if (event.type === 'service-error') throw event.error
        if (event.type === 'fragment') hashes.push(sha256(clusterOf(concatBytes(event.parts))))
      }
      if (hashes.length >= total) break
    }
  } finally {
    body.destroy()
  }
  return hashes
}
