// The network client of `readStream`, loaded on its first read: `@kvs-streams/signer` and
// `@kvs-streams/transport` are optional peer dependencies, so that `@kvs-streams/get-media` (and its `./parser`
// entry) can be imported, and its parser used, where neither is installed or wanted (a browser bundle, a reader
// of bytes from the AWS SDK). Nothing here runs at import time.
import type * as Signer from '@kvs-streams/signer'
import type * as Transport from '@kvs-streams/transport'

/** The modules `readStream` needs. */
export interface Network {
  signer: typeof Signer
  transport: typeof Transport
}

let network: Promise<Network> | undefined

/**
 * Imports the signer and the transport once (later calls share the first import). A failed import (a package
 * not installed) is not cached: it rejects with an `Error` that names the missing peer dependency, and the next
 * call tries again.
 */
export function loadNetwork(): Promise<Network> {
  if (network === undefined) {
    const loading = Promise.all([import('@kvs-streams/signer'), import('@kvs-streams/transport')]).then(
      ([signer, transport]) => ({ signer, transport }),
      (error: unknown) => {
        throw new Error(
          'readStream needs @kvs-streams/signer and @kvs-streams/transport, optional peer dependencies of ' +
            '@kvs-streams/get-media: install them next to it (the parser alone needs neither)',
          { cause: error },
        )
      },
    )
    network = loading
    loading.catch(() => {
      if (network === loading) network = undefined
    })
  }
  return network
}
