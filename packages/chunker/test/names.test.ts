// Deprecated names still exported (issue 14, point 5: one vocabulary).
import { describe, expectTypeOf, it } from 'vitest'
import type { ChunkerFragmentEvent, FragmentEvent } from '../src/index.ts'

describe('deprecated names', () => {
  it('FragmentEvent is ChunkerFragmentEvent', () => {
    expectTypeOf<FragmentEvent>().toEqualTypeOf<ChunkerFragmentEvent>()
  })
})
