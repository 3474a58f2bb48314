import { expect, test } from 'vitest'
import { FAULT_BUDGET, MIN_TOTAL_FAULTS } from '../src/index.ts'

test('the scenario files together inject at least 1,000 faults per run (each asserts its share in afterAll)', () => {
  const total = Object.values(FAULT_BUDGET).reduce((sum, share) => sum + share, 0)
  expect(MIN_TOTAL_FAULTS).toBe(1_000)
  expect(total).toBeGreaterThanOrEqual(MIN_TOTAL_FAULTS)
})
