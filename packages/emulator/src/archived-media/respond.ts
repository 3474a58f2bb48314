import type { ServerResponse } from 'node:http'

/** Content types of the session resources and GetClip. */
export const CONTENT_TYPES = {
  m3u8: 'application/vnd.apple.mpegurl',
  mp4: 'video/mp4',
  mpd: 'application/dash+xml',
} as const

/**
 * Sends a 200 with a body given as parts (box headers and views of stored frames), corked so the parts go
 * out in as few packets as their size allows.
 */
export function sendParts(
  response: ServerResponse,
  contentType: string,
  parts: readonly Uint8Array[],
  byteLength: number,
): void {
  response.writeHead(200, { 'content-type': contentType, 'content-length': byteLength })
  response.cork()
  for (const part of parts) response.write(part)
  response.uncork()
  response.end()
}

/** Sends a 200 with a text body (a playlist or manifest). */
export function sendText(response: ServerResponse, contentType: string, text: string): void {
  const body = Buffer.from(text, 'utf8')
  sendParts(response, contentType, [body], body.length)
}
