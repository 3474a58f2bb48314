import { expect, test } from 'vitest'
import { FAULT_BUDGET, MIN_TOTAL_FAULTS } from './support/faults.ts'

test('the fault tests together inject at least 200 faults (each file asserts its share in afterAll)', () => {
  const total = Object.values(FAULT_BUDGET).reduce((sum, share) => sum + share, 0)
  expect(MIN_TOTAL_FAULTS).toBe(200)
  expect(total).toBeGreaterThanOrEqual(MIN_TOTAL_FAULTS)
})
