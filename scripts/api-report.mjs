// The public API surface of every published package, recorded with API Extractor: one report per entry point
// of its `exports` map, in packages/<name>/api/<entry>.api.md (`.` → index, `./node` → node, …), built from
// the compiled .d.ts files (run `pnpm build` first). Reviewed in diffs, so an accidental export, a removed one
// or a changed signature shows up.
//   node scripts/api-report.mjs           check: fails when a report differs from the build (prints the diff)
//   node scripts/api-report.mjs --update  rewrite the reports (`pnpm api:update`)
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CompilerState, Extractor, ExtractorConfig } from '@microsoft/api-extractor'

const root = fileURLToPath(new URL('..', import.meta.url))
const update = process.argv.includes('--update')
const temp = join(tmpdir(), `kvs-streams-api-report-${process.pid}`)

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

/** One report per `exports` entry: its name and the .d.ts its `types` condition points to. */
function entryPoints(manifest) {
  return Object.entries(manifest.exports ?? {}).map(([subpath, conditions]) => ({
    report: subpath === '.' ? 'index' : subpath.replace(/^\.\//, '').replaceAll('/', '-'),
    types: conditions.types,
  }))
}

const packages = publishedPackages()
const allEntries = packages.flatMap(({ folder, manifest }) =>
  entryPoints(manifest)
    .map(({ types }) => join(folder, types))
    .filter((file) => existsSync(file)),
)
let compilerState
let failed = 0
let checked = 0
for (const { name, folder, manifest } of packages) {
  const reportFolder = join(folder, 'api')
  if (update) mkdirSync(reportFolder, { recursive: true })
  const expected = new Set()
  for (const { report, types } of entryPoints(manifest)) {
    expected.add(`${report}.api.md`)
    const entry = join(folder, types)
    if (!existsSync(entry)) {
      console.error(`${manifest.name} ${report}: ${types} is missing (run pnpm build)`)
      failed++
      continue
    }
    const reportTempFolder = join(temp, name)
    mkdirSync(reportTempFolder, { recursive: true })
    const config = ExtractorConfig.prepare({
      configObject: {
        projectFolder: folder,
        mainEntryPointFilePath: entry,
        // Only the entries' .d.ts files (and what they import): a program over the sources takes 5× as long.
        compiler: {
          overrideTsconfig: {
            compilerOptions: {
              target: 'es2023',
              module: 'nodenext',
              moduleResolution: 'nodenext',
              lib: ['es2023', 'dom'],
              types: ['node'],
              strict: true,
              skipLibCheck: true,
            },
            files: [entry],
          },
        },
        apiReport: { enabled: true, reportFolder, reportTempFolder, reportFileName: report },
        docModel: { enabled: false },
        dtsRollup: { enabled: false },
        tsdocMetadata: { enabled: false },
        messages: {
          // Recorded in the report instead of printed: forgotten exports and undocumented members show in diffs.
          extractorMessageReporting: {
            default: { logLevel: 'none', addToApiReportFile: true },
            'ae-missing-release-tag': { logLevel: 'none', addToApiReportFile: false },
            // Marked "(undocumented)" at the member already; the list with line numbers would churn on every edit.
            'ae-undocumented': { logLevel: 'none', addToApiReportFile: false },
          },
          // TSDoc is checked by TypeDoc (pnpm docs), which reads the same comments the way the sources write them.
          tsdocMessageReporting: { default: { logLevel: 'none' } },
          compilerMessageReporting: { default: { logLevel: 'error' } },
        },
      },
      configObjectFullPath: join(folder, 'api-extractor.json'),
      packageJsonFullPath: join(folder, 'package.json'),
    })
    // One TypeScript program over every entry point, shared by all the reports (one each costs seconds).
    compilerState ??= CompilerState.create(config, { additionalEntryPoints: allEntries })
    const result = Extractor.invoke(config, { localBuild: update, compilerState, messageCallback: quiet })
    checked++
    if (!result.succeeded) {
      failed++
      const written = join(reportTempFolder, `${report}.api.md`)
      const committed = join(reportFolder, `${report}.api.md`)
      console.error(
        `\n${manifest.name} (${report}): the API report differs from the build; run pnpm api:update`,
      )
      if (existsSync(written)) {
        spawnSync(
          'git',
          ['diff', '--no-index', '--', existsSync(committed) ? committed : '/dev/null', written],
          {
            stdio: 'inherit',
          },
        )
      }
    }
  }
  // A report whose entry point is gone.
  for (const file of existsSync(reportFolder) ? readdirSync(reportFolder) : []) {
    if (file.endsWith('.api.md') && !expected.has(file)) {
      if (update) {
        rmSync(join(reportFolder, file))
      } else {
        console.error(`${manifest.name}: api/${file} has no entry point in package.json "exports"`)
        failed++
      }
    }
  }
}
rmSync(temp, { recursive: true, force: true })

/** API Extractor's own progress lines, without the chatter. */
function quiet(message) {
  if (message.logLevel === 'info' || message.logLevel === 'verbose') message.handled = true
  if (
    message.messageId === 'console-api-report-changed' ||
    message.messageId === 'console-api-report-created'
  )
    message.handled = true
}

console.log(`API reports: ${checked} entry points, ${failed} ${update ? 'errors' : 'differ or failed'}`)
process.exit(failed === 0 ? 0 : 1)
