// API reference (`pnpm docs`): TypeDoc over the TSDoc in the sources of every published package, one module
// per entry point of its `exports` map, merged into one site in docs/api/. Fails (exit 1) on a broken
// {@link} or relative path, or an exported declaration without a TSDoc comment.
//   node scripts/docs.mjs           build docs/api/
//   node scripts/docs.mjs --check   only validate (what CI runs)
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Application, LogLevel } from 'typedoc'

const root = fileURLToPath(new URL('..', import.meta.url))
const check = process.argv.includes('--check')
const out = join(root, 'docs', 'api')
const temp = mkdtempSync(join(tmpdir(), 'kvs-streams-docs-'))

/** The published packages: every packages/* that is not private. */
function publishedPackages() {
  return readdirSync(join(root, 'packages'))
    .map((name) => ({ name, folder: join(root, 'packages', name) }))
    .filter(({ folder }) => existsSync(join(folder, 'package.json')))
    .map((entry) => ({
      ...entry,
      manifest: JSON.parse(readFileSync(join(entry.folder, 'package.json'), 'utf8')),
    }))
    .filter(({ manifest }) => manifest.private !== true)
}

/** The source of each `exports` entry: ./dist/x.js → src/x.ts. */
function entrySources(folder, manifest) {
  return Object.values(manifest.exports ?? {}).map((conditions) =>
    join(folder, conditions.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')),
  )
}

/** Options every run shares. */
const common = {
  logLevel: LogLevel.Warn,
  excludeInternal: true,
  excludePrivate: true,
  readme: 'none',
  // Members inherited from Node's classes (the producer is an EventEmitter) link to Node's documentation.
  externalSymbolLinkMappings: { '@types/node': { '*': 'https://nodejs.org/api/' } },
  gitRevision: 'main',
  sourceLinkTemplate: 'https://github.com/kvs-streams/kvs-streams/blob/{gitRevision}/{path}#L{line}',
}

/**
 * Types the public API uses that no entry point exports (the API reports list them as ae-forgotten-export).
 * These are known; a new one fails the check. The *OwnOptions ones keep their fields out of the reference.
 */
const notExported = {
  'get-media': ['ReadStreamOwnOptions'],
  transport: [
    'GetMediaOwnOptions',
    'GetMediaForFragmentListOwnOptions',
    'ListFragmentsOwnOptions',
    'PutMediaOwnOptions',
    'PutFragmentOwnOptions',
  ],
}

/** Converts and validates one package, writing TypeDoc's JSON to `json`; true when it has no problems. */
async function convertPackage({ name, folder, manifest }, json) {
  const app = await Application.bootstrapWithPlugins({
    ...common,
    name: manifest.name,
    entryPoints: entrySources(folder, manifest),
    entryPointStrategy: 'resolve',
    tsconfig: join(folder, 'tsconfig.json'),
    intentionallyNotExported: notExported[name] ?? [],
    // Every exported declaration carries TSDoc (members are not required: many are self-describing fields).
    validation: { notExported: true, invalidLink: true, invalidPath: true, notDocumented: true },
    requiredToBeDocumented: ['Enum', 'Variable', 'Function', 'Class', 'Interface', 'TypeAlias', 'Namespace'],
  })
  const project = await app.convert()
  if (project !== undefined) app.validate(project)
  if (project === undefined || app.logger.hasErrors() || app.logger.hasWarnings()) return false
  await app.generateJson(project, json)
  return true
}

// A plugin loads once per process: each package is converted in a child process (`--package <name> <json>`).
const packageIndex = process.argv.indexOf('--package')
if (packageIndex !== -1) {
  const [name, json] = process.argv.slice(packageIndex + 1)
  const found = publishedPackages().find((entry) => entry.name === name)
  process.exit(found !== undefined && (await convertPackage(found, json)) ? 0 : 1)
}

/** Converts one package in a child process; resolves to its exit code. */
function convertInChild(name, json) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--package', name, json], {
      stdio: 'inherit',
    })
    child.on('close', (code) => resolve(code ?? 1))
  })
}

let failed = 0
const jsonFiles = []
// As many conversions at a time as there are CPUs: each is one single-threaded TypeScript program.
const queue = publishedPackages()
const worker = async () => {
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const json = join(temp, `${next.name}.json`)
    if ((await convertInChild(next.name, json)) === 0) {
      jsonFiles.push(json)
    } else {
      console.error(`docs: ${next.manifest.name} has the problems above`)
      failed++
    }
  }
}
await Promise.all(Array.from({ length: Math.max(1, availableParallelism()) }, worker))
jsonFiles.sort()

if (failed === 0 && !check) {
  const app = await Application.bootstrapWithPlugins({
    ...common,
    name: 'kvs-streams',
    entryPoints: jsonFiles,
    entryPointStrategy: 'merge',
  })
  const project = await app.convert()
  if (project === undefined || app.logger.hasErrors() || app.logger.hasWarnings()) {
    failed++
  } else {
    rmSync(out, { recursive: true, force: true })
    await app.generateDocs(project, out)
    console.log(`docs: ${relative(root, out)}/index.html`)
  }
}
rmSync(temp, { recursive: true, force: true })
console.log(`docs: ${jsonFiles.length} packages documented, ${failed} with problems`)
process.exit(failed === 0 ? 0 : 1)
