import { subscribe } from 'node:diagnostics_channel'
import { afterAll, afterEach } from 'vitest'
import { EMULATOR_RESPONSE_CHANNEL, type EmulatorResponseMessage } from '../../src/http/response-channel.ts'
import { checkResponse } from './model-check.ts'

/**
 * Vitest setup (see the root vitest.config.ts): every response of every emulator running in a test process
 * is checked against the service models as it is published on the emulator's diagnostics channel. A test
 * during which an emulator sent a response that does not fit fails in `afterEach`; responses published after
 * the last test of a file (an emulator closed in `afterAll`) fail the file in `afterAll`.
 */

/** Violations not yet reported. */
const pending: string[] = []

subscribe(EMULATOR_RESPONSE_CHANNEL, (message) => {
  try {
    pending.push(...checkResponse(message as EmulatorResponseMessage))
  } catch (error) {
    pending.push(`the model check itself failed: ${error instanceof Error ? error.stack : String(error)}`)
  }
})

/** Adds violations found elsewhere (the test client checks what child-process emulators answer). */
export function reportModelViolations(violations: readonly string[]): void {
  pending.push(...violations)
}

/** Takes the violations found since the last report (tests of the check itself consume their own). */
export function takeModelViolations(): string[] {
  return pending.splice(0)
}

function report(): void {
  const found = takeModelViolations()
  if (found.length > 0) {
    throw new Error(
      `emulator responses that do not fit the service model (${found.length}):\n  ${found.join('\n  ')}`,
    )
  }
}

afterEach(report)
afterAll(report)
