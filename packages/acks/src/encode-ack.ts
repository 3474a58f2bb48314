import { invalidOption, numberOption } from '@kvs-streams/core'
import { ACK_EVENT_TYPES, type Ack } from './ack.ts'

const encoder = new TextEncoder()
const eventTypes = new Set<string>(ACK_EVENT_TYPES)
const wireKeys = new Set(['EventType', 'FragmentTimecode', 'FragmentNumber', 'ErrorCode', 'ErrorId'])

/**
 * Encodes an ack exactly as the service writes it: compact JSON with the keys in the order `EventType`,
 * `FragmentTimecode`, `FragmentNumber`, `ErrorCode`, `ErrorId` (absent fields left out), then any `extra`
 * keys, then `\n`. `{ eventType: 'IDLE' }` encodes as `{"EventType":"IDLE"}\n`. For emulators and tests.
 *
 * @throws TypeError when a field has the wrong type or `extra` repeats a wire key
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export function encodeAck(ack: Ack): Uint8Array {
  if (!eventTypes.has(ack.eventType)) {
    throw invalidOption('ack.eventType', `one of ${ACK_EVENT_TYPES.join(', ')}`, ack.eventType)
  }
  let json = `{"EventType":"${ack.eventType}"`
  if (ack.fragmentTimecode !== undefined) {
    json += `,"FragmentTimecode":${finiteNumber('ack.fragmentTimecode', ack.fragmentTimecode)}`
  }
  if (ack.fragmentNumber !== undefined) {
    json += `,"FragmentNumber":${jsonString('ack.fragmentNumber', ack.fragmentNumber)}`
  }
  if (ack.errorCode !== undefined) json += `,"ErrorCode":${jsonString('ack.errorCode', ack.errorCode)}`
  if (ack.errorId !== undefined) json += `,"ErrorId":${finiteNumber('ack.errorId', ack.errorId)}`
  if (ack.extra !== undefined) {
    for (const [key, value] of Object.entries(ack.extra)) {
      if (wireKeys.has(key)) throw invalidOption(`ack.extra.${key}`, 'absent (it is a wire key)', value)
      const encoded = JSON.stringify(value)
      if (encoded !== undefined) json += `,${JSON.stringify(key)}:${encoded}`
    }
  }
  return encoder.encode(`${json}}\n`)
}

function finiteNumber(name: string, value: unknown): string {
  return String(numberOption(name, value, 'a finite number'))
}

function jsonString(name: string, value: unknown): string {
  if (typeof value !== 'string') throw invalidOption(name, 'a string', value)
  return JSON.stringify(value)
}
