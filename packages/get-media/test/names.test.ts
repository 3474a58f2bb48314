// Renamed names (issue 14, point 5: one vocabulary): the deprecated ones still work.
import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  createGetMediaParser,
  type FragmentEvent,
  type FragmentStartEvent,
  type GetMediaErrorEvent,
  type GetMediaEvent,
  type GetMediaServiceErrorEvent,
  type MediaFragmentEvent,
  type MediaFragmentStartEvent,
} from '../src/index.ts'

describe('deprecated names', () => {
  it('FragmentEvent is MediaFragmentEvent, GetMediaErrorEvent is GetMediaServiceErrorEvent', () => {
    expectTypeOf<FragmentEvent>().toEqualTypeOf<MediaFragmentEvent>()
    expectTypeOf<GetMediaErrorEvent>().toEqualTypeOf<GetMediaServiceErrorEvent>()
    expectTypeOf<GetMediaServiceErrorEvent['type']>().toEqualTypeOf<'service-error'>()
  })

  it('FragmentStartEvent is MediaFragmentStartEvent (type-level: checked by pnpm typecheck)', () => {
    expectTypeOf<FragmentStartEvent>().toEqualTypeOf<MediaFragmentStartEvent>()
    expectTypeOf<
      Extract<GetMediaEvent, { type: 'fragment-start' }>
    >().toEqualTypeOf<MediaFragmentStartEvent>()
  })

  // raw-mode.test.ts checks that the deprecated maxFragmentBytes still limits a raw fragment.
  it('maxFragmentBytes and maxBufferedFragmentBytes must not disagree', () => {
    expect(() => createGetMediaParser({ maxFragmentBytes: 10, maxBufferedFragmentBytes: 20 })).toThrow(
      TypeError,
    )
  })
})
