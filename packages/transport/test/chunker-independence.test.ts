import { readdirSync, readFileSync } from 'node:fs'
import type { ChunkerEvent, ChunkerFragmentEvent, HeaderEvent, ViolationEvent } from '@kvs-streams/chunker'
import { describe, expect, expectTypeOf, it } from 'vitest'
import type { LegacyChunkerEventInput, PutMediaInput } from '../src/index.ts'
import type {
  PutFragmentInput,
  PutFragmentStream,
  PutFragmentStreamInput,
  PutHeaderInput,
  ViolationLikeEvent,
} from '../src/web.ts'

const packageRoot = new URL('../', import.meta.url)

/** The transport's own TypeScript sources, as text. */
function sources(): { file: string; text: string }[] {
  const dir = new URL('src/', packageRoot)
  return readdirSync(dir)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => ({ file, text: readFileSync(new URL(file, dir), 'utf8') }))
}

describe('the transport without the chunker', () => {
  it('does not depend on @kvs-streams/chunker (a dev dependency at most, for tests)', () => {
    const manifest = JSON.parse(readFileSync(new URL('package.json', packageRoot), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      expect(Object.keys(manifest[field] ?? {}), field).not.toContain('@kvs-streams/chunker')
    }
  })

  it('imports nothing from @kvs-streams/chunker in its sources', () => {
    const importers = sources()
      .filter(({ text }) => /(?:from|import)\s*\(?\s*['"]@kvs-streams\/chunker/.test(text))
      .map(({ file }) => file)
    expect(importers).toEqual([])
  })

  it("has no project reference to the chunker in its build's tsconfig", () => {
    expect(readFileSync(new URL('tsconfig.json', packageRoot), 'utf8')).not.toMatch(/chunker/)
  })

  it("takes the chunker's events where it declares their shape (type-level: checked by pnpm typecheck)", () => {
    // putMedia: bytes, arrays of views, and the deprecated events.
    expectTypeOf<Uint8Array>().toExtend<PutMediaInput>()
    expectTypeOf<readonly Uint8Array[]>().toExtend<PutMediaInput>()
    expectTypeOf<ChunkerFragmentEvent['parts']>().toExtend<PutMediaInput>()
    expectTypeOf<ChunkerEvent>().toExtend<LegacyChunkerEventInput>()
    expectTypeOf<ChunkerEvent>().toExtend<PutMediaInput>()
    expectTypeOf<number>().not.toExtend<PutMediaInput>()
    expectTypeOf<(Uint8Array | number)[]>().not.toExtend<PutMediaInput>()
    // putFragment, createFragmentPutter().put.
    expectTypeOf<HeaderEvent>().toExtend<PutHeaderInput>()
    expectTypeOf<ChunkerFragmentEvent>().toExtend<PutFragmentInput>()
    expectTypeOf<HeaderEvent>().not.toExtend<PutFragmentInput>()
    // PutFragmentStream.
    expectTypeOf<ChunkerEvent>().toExtend<PutFragmentStreamInput>()
    expectTypeOf<ViolationEvent>().toExtend<ViolationLikeEvent>()
    expectTypeOf<PutFragmentStream['writable']>().toEqualTypeOf<WritableStream<PutFragmentStreamInput>>()
    expectTypeOf<PutFragmentStream<ViolationEvent>['readable']>().toExtend<
      ReadableStream<{ type: 'fragment-acknowledged'; index: number } | ViolationEvent>
    >()
    // A plain assignment, for good measure: the chunker's events are the transport's inputs as they are.
    const fromChunker = (event: ChunkerEvent): PutFragmentStreamInput & PutMediaInput => event
    expect(typeof fromChunker).toBe('function')
  })
})
