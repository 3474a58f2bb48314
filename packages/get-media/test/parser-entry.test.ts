// The `./parser` subpath: the whole parsing API without the network client (signer, transport, undici).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as everything from '@kvs-streams/get-media'
import * as parserOnly from '@kvs-streams/get-media/parser'
import { describe, expect, it } from 'vitest'

const src = fileURLToPath(new URL('../src/', import.meta.url))

/** Bare specifiers imported at run time (not `import type`) by a source file and the files it imports. */
function runtimeDependencies(entry: string): Set<string> {
  const seen = new Set<string>()
  const bare = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const text = readFileSync(`${src}${file}`, 'utf8')
    for (const match of text.matchAll(/^(import|export)(?!\s+type\b)[^'"]*?from\s+'([^']+)'/gm)) {
      const specifier = match[2]!
      if (specifier.startsWith('./')) visit(specifier.slice(2))
      else bare.add(specifier)
    }
  }
  visit(entry)
  return bare
}

describe('@kvs-streams/get-media/parser', () => {
  it('exports everything the package does except readStream and its error', () => {
    const expected = Object.keys(everything)
      .filter((name) => name !== 'readStream' && name !== 'ReadStreamError')
      .sort()
    expect(Object.keys(parserOnly).sort()).toEqual(expected)
    expect(parserOnly.createGetMediaParser).toBe(everything.createGetMediaParser)
  })

  it('loads only @kvs-streams/core and @kvs-streams/ebml at run time, none of the network client', () => {
    expect([...runtimeDependencies('parse.ts')].sort()).toEqual(['@kvs-streams/core', '@kvs-streams/ebml'])
    // The check itself sees the network client where it is imported.
    expect(runtimeDependencies('index.ts')).toContain('@kvs-streams/transport')
  })

  it('is published as dist/parse.js', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    expect(manifest.exports['./parser']).toEqual({ types: './dist/parse.d.ts', default: './dist/parse.js' })
  })
})
