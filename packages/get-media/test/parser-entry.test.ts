// The `./parser` subpath: the whole parsing API without the network client (signer, transport, undici); the
// package root loads the network client only when `readStream` reads.
import { execFileSync } from 'node:child_process'
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
    // The root too: readStream imports the signer and the transport (optional peers) on its first read.
    expect([...runtimeDependencies('index.ts')].sort()).toEqual(['@kvs-streams/core', '@kvs-streams/ebml'])
    // The check itself sees a static import where there is one.
    expect(runtimeDependencies('../test/support/refuse-network.mjs')).toContain('node:module')
  })

  it('imports (built) and parses with the signer, the transport and undici impossible to load', () => {
    // A child process whose module resolution refuses the network client: the built entries import, parse, and
    // readStream fails only when read, naming the missing optional peer dependencies.
    const dist = (file: string) => new URL(`../dist/${file}`, import.meta.url).href
    const script = `
      const parser = await import(${JSON.stringify(dist('parse.js'))})
      const root = await import(${JSON.stringify(dist('index.js'))})
      const events = parser.createGetMediaParser().push(new Uint8Array(0))
      const reader = root.readStream({
        streamName: 's',
        dataEndpoint: 'http://127.0.0.1:1',
        startSelector: { StartSelectorType: 'NOW' },
        region: 'us-east-1',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      })
      const failure = await reader.next().then(() => 'no failure', (error) => error)
      console.log(JSON.stringify({
        events: events.length,
        sameParser: parser.createGetMediaParser === root.createGetMediaParser,
        message: failure.message,
        cause: failure.cause?.code,
      }))
    `
    const output = execFileSync(
      process.execPath,
      [
        '--import',
        new URL('./support/refuse-network.mjs', import.meta.url).href,
        '--input-type=module',
        '-e',
        script,
      ],
      { encoding: 'utf8' },
    )
    expect(JSON.parse(output)).toEqual({
      events: 0,
      sameParser: true,
      message: expect.stringMatching(
        /^readStream needs @kvs-streams\/signer and @kvs-streams\/transport, optional peer/,
      ),
      cause: 'ERR_REFUSED_BY_TEST',
    })
  })

  it('declares the signer and the transport as optional peer dependencies', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('@kvs-streams/transport')
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('@kvs-streams/signer')
    expect(manifest.peerDependenciesMeta).toEqual({
      '@kvs-streams/signer': { optional: true },
      '@kvs-streams/transport': { optional: true },
    })
  })

  it('is published as dist/parse.js', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    expect(manifest.exports['./parser']).toEqual({ types: './dist/parse.d.ts', default: './dist/parse.js' })
  })
})
