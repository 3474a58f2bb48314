import type { KvsSigner } from '@kvs-streams/signer'

/**
 * Credentials for the signer, from the page's own server (it stands in for Cognito or an STS token endpoint;
 * the page never holds long-term keys). The signer caches them and asks again before `expiration`.
 */
export async function fetchCredentials() {
  const response = await fetch('/credentials', { cache: 'no-store' })
  if (!response.ok) throw new Error(`GET /credentials answered ${response.status}`)
  const body = (await response.json()) as {
    accessKeyId: string
    secretAccessKey: string
    sessionToken?: string
    expiration: string
  }
  return { ...body, expiration: new Date(body.expiration) }
}

/** GetDataEndpoint (PUT_MEDIA) with fetch: a signed JSON POST to the control plane. */
export async function getDataEndpoint(
  controlEndpoint: string,
  signer: KvsSigner,
  streamName: string,
): Promise<string> {
  const url = `${controlEndpoint}/getDataEndpoint`
  const body = JSON.stringify({ StreamName: streamName, APIName: 'PUT_MEDIA' })
  // fetch sets `host` from the URL (a browser refuses to set it); it is the value that was signed.
  const { host: _host, ...headers } = (await signer.signJson({ url, body })).headers
  const response = await fetch(url, { method: 'POST', headers, body })
  if (!response.ok) throw new Error(`GetDataEndpoint answered ${response.status}: ${await response.text()}`)
  return ((await response.json()) as { DataEndpoint: string }).DataEndpoint
}
