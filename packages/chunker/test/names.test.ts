// Deprecated names still exported (issue 14, point 5: one vocabulary).
import { describe, expectTypeOf, it } from 'vitest'
import type {
  ChunkerFragmentEvent,
  ChunkerFragmentStartEvent,
  FragmentEvent,
  FragmentStartEvent,
} from '../src/index.ts'

describe('deprecated names', () => {
  it('FragmentEvent is ChunkerFragmentEvent', () => {
    expectTypeOf<FragmentEvent>().toEqualTypeOf<ChunkerFragmentEvent>()
  })

  it('FragmentStartEvent is ChunkerFragmentStartEvent (type-level: checked by pnpm typecheck)', () => {
    expectTypeOf<FragmentStartEvent>().toEqualTypeOf<ChunkerFragmentStartEvent>()
    expectTypeOf<ChunkerFragmentStartEvent['type']>().toEqualTypeOf<'fragment-start'>()
  })
})
