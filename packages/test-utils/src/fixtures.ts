import { readFileSync } from 'node:fs'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// Both src/ and dist/ sit two levels below the repository root, so this resolves the same from either.
const fixturesRoot = fileURLToPath(new URL('../../../fixtures/', import.meta.url))

/**
 * Absolute path of a file under the repository's top-level `fixtures/` folder, found from this package's
 * own location (not the working directory), so tests can run from any folder.
 *
 * @example fixturePath('kvs-getmedia', 'clusters.mkv')
 * @throws TypeError when the parts would leave the fixtures folder.
 */
export function fixturePath(...parts: string[]): string {
  const path = resolve(join(fixturesRoot, ...parts))
  const inside = relative(fixturesRoot, path)
  if (inside.startsWith('..') || isAbsolute(inside)) {
    throw new TypeError(`parts must name a path inside fixtures/, got ${JSON.stringify(parts)}`)
  }
  return path
}

/**
 * The bytes of a fixture file (see {@link fixturePath}), as a plain `Uint8Array` (not a `Buffer`) so that
 * deep-equality assertions compare it like any other byte array.
 */
export function readFixture(...parts: string[]): Uint8Array {
  const buffer = readFileSync(fixturePath(...parts))
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}
