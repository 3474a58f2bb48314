import { invalidArgument, ServiceError } from '../errors.ts'
import type { JsonObject } from './router.ts'

/** Patterns of the `kinesisvideo` model (botocore `service-2.json`). */
export const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,256}$/
export const STREAM_ARN = /^arn:[a-z\d-]+:kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+\/[a-zA-Z0-9_.-]+\/[0-9]+$/
export const DEVICE_NAME = /^[a-zA-Z0-9_.-]{1,128}$/
export const MEDIA_TYPE = /^[\w\-.+]+\/[\w\-.+]+(,[\w\-.+]+\/[\w\-.+]+)*$/
export const VERSION = /^[a-zA-Z0-9]{1,64}$/
export const NEXT_TOKEN = /^[a-zA-Z0-9+/=]{0,512}$/

function wrongType(member: string, expected: string): ServiceError {
  return new ServiceError('SerializationException', 400, `${member} must be ${expected}.`)
}

/** An optional string member; a wrong JSON type is a SerializationException, a bad value an InvalidArgumentException. */
export function optionalString(
  input: JsonObject,
  member: string,
  rule?: { pattern?: RegExp; maxLength?: number; minLength?: number },
): string | undefined {
  const value = input[member]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw wrongType(member, 'a string')
  if (rule?.minLength !== undefined && value.length < rule.minLength) {
    throw invalidArgument(`${member} must have at least ${rule.minLength} characters.`)
  }
  if (rule?.maxLength !== undefined && value.length > rule.maxLength) {
    throw invalidArgument(`${member} must have at most ${rule.maxLength} characters.`)
  }
  if (rule?.pattern !== undefined && !rule.pattern.test(value)) {
    throw invalidArgument(
      `${member} ${JSON.stringify(value.slice(0, 300))} does not match ${rule.pattern.source}.`,
    )
  }
  return value
}

export function requiredString(
  input: JsonObject,
  member: string,
  rule?: Parameters<typeof optionalString>[2],
): string {
  const value = optionalString(input, member, rule)
  if (value === undefined) throw invalidArgument(`${member} is required.`)
  return value
}

export function optionalInteger(
  input: JsonObject,
  member: string,
  range: { min: number; max: number },
): number | undefined {
  const value = input[member]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType(member, 'an integer')
  if (value < range.min || value > range.max) {
    throw invalidArgument(`${member} must be between ${range.min} and ${range.max}, got ${value}.`)
  }
  return value
}

/** A string-to-string map member (tags): at most `maxEntries`, keys 1–128 and values 0–256 characters. */
export function optionalTags(
  input: JsonObject,
  member: string,
  maxEntries = 50,
): Record<string, string> | undefined {
  const value = input[member]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) throw wrongType(member, 'a map of strings')
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.length === 0 || entries.length > maxEntries) {
    throw invalidArgument(`${member} must have between 1 and ${maxEntries} entries.`)
  }
  const tags: Record<string, string> = {}
  for (const [key, tagValue] of entries) {
    if (typeof tagValue !== 'string') throw wrongType(`${member}.${key}`, 'a string')
    if (key.length < 1 || key.length > 128) throw invalidArgument(`Tag keys must have 1 to 128 characters.`)
    if (tagValue.length > 256) throw invalidArgument(`Tag values must have at most 256 characters.`)
    tags[key] = tagValue
  }
  return tags
}

/** A list of strings member. */
export function requiredStringList(input: JsonObject, member: string, maxEntries: number): string[] {
  const value = input[member]
  if (value === undefined || value === null) throw invalidArgument(`${member} is required.`)
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string'))
    throw wrongType(member, 'a list of strings')
  if (value.length < 1 || value.length > maxEntries) {
    throw invalidArgument(`${member} must have between 1 and ${maxEntries} entries.`)
  }
  return value as string[]
}

/** `StreamName` / `StreamARN`: exactly one of them. */
export function streamReference(input: JsonObject): { streamName?: string; streamARN?: string } {
  const streamName = optionalString(input, 'StreamName', { pattern: STREAM_NAME })
  const streamARN = optionalString(input, 'StreamARN', { pattern: STREAM_ARN, maxLength: 1024 })
  if (streamName === undefined && streamARN === undefined)
    throw invalidArgument('StreamName or StreamARN is required.')
  if (streamName !== undefined && streamARN !== undefined) {
    throw invalidArgument('Specify either StreamName or StreamARN, not both.')
  }
  return streamName === undefined ? { streamARN: streamARN! } : { streamName }
}
