import { createSecureContext } from 'node:tls'
import { EmulatorError } from '../errors.ts'
import type { ResolvedOptions } from '../options.ts'
import { loadOrCreateCertificates } from './certificates.ts'

/** What the HTTPS server is created with. */
export interface TlsSetup {
  cert: string | Buffer
  key: string | Buffer
  /** The generated CA (PEM), when the emulator made its own certificate. */
  caCertificate: string | undefined
  /** Where that CA is kept. */
  caPath: string | undefined
}

function asPem(value: string | Uint8Array): string | Buffer {
  return typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}

/** `[::1]` → `::1`: URL host names keep IPv6 brackets, certificates do not. */
function bare(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/**
 * The certificate and key to serve HTTPS with (`undefined`: plain HTTP): the user's, checked to load and
 * match, or the emulator's own for localhost, the bound host and `publicUrl`'s host.
 */
export async function resolveTlsCredentials(options: ResolvedOptions): Promise<TlsSetup | undefined> {
  const { tls } = options
  if (tls === undefined) return undefined
  if (tls !== 'generate') {
    const cert = asPem(tls.cert)
    const key = asPem(tls.key)
    try {
      createSecureContext({ cert, key })
    } catch (error) {
      throw new EmulatorError(
        'ERR_KVS_EMULATOR_TLS',
        `tlsCert and tlsKey do not make a usable certificate: ${(error as Error).message}`,
        { cause: error },
      )
    }
    return { cert, key, caCertificate: undefined, caPath: undefined }
  }
  const hosts: string[] = []
  if (options.host !== '0.0.0.0' && options.host !== '::') hosts.push(bare(options.host))
  if (options.publicUrl !== undefined) hosts.push(bare(new URL(options.publicUrl).hostname))
  return loadOrCreateCertificates(options.tlsDir, hosts, options.clock())
}
