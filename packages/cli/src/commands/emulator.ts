import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { createConsoleLogger, DEFAULT_CREDENTIALS, startEmulator } from '@kvs-streams/emulator'
import { type CommandContext, flag, stringOption } from '../command.ts'
import { resolveRegion } from '../config.ts'
import { usageError } from '../errors.ts'
import { write } from '../io.ts'
import { parseDuration } from '../time.ts'

/** Default port of `kvs emulator` (as the `kvs-emulator` bin). */
export const DEFAULT_EMULATOR_PORT = 4567

function port(context: CommandContext): number {
  const text = stringOption(context, 'port') ?? String(DEFAULT_EMULATOR_PORT)
  const value = Number(text)
  if (!/^\d+$/.test(text) || value > 65_535)
    throw usageError(`--port must be a port number from 0 to 65535, got ${JSON.stringify(text)}`)
  return value
}

/** `--get-media-idle-timeout`: how long a caught-up GetMedia response waits for a fragment before it ends. */
function getMediaIdle(context: CommandContext): { getMediaIdleTimeoutMs?: number } {
  const text = stringOption(context, 'get-media-idle-timeout')
  if (text === undefined) return {}
  const value = parseDuration(text)
  if (value === undefined || value <= 0 || !Number.isFinite(value)) {
    throw usageError(
      `--get-media-idle-timeout must be a duration such as 3s or 500ms, got ${JSON.stringify(text)}`,
    )
  }
  return { getMediaIdleTimeoutMs: value }
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
}

/** `--max-memory`: bytes of fragments the emulator keeps in memory (`512MB`, `1GiB`, `1048576`). */
function maxMemory(context: CommandContext): { maxMemoryBytes?: number } {
  const text = stringOption(context, 'max-memory')
  if (text === undefined) return {}
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  const unit = match === null ? undefined : SIZE_UNITS[match[2]!.toLowerCase()]
  const value = match === null || unit === undefined ? Number.NaN : Math.floor(Number(match[1]) * unit)
  if (!Number.isSafeInteger(value) || value < 1) {
    throw usageError(
      `--max-memory must be a size such as 512MB, 1GiB or 1048576, got ${JSON.stringify(text)}`,
    )
  }
  return { maxMemoryBytes: value }
}

/**
 * HTTPS options: `--tls-cert`/`--tls-key` (read here), or `--tls` with the emulator's own CA kept in
 * `--tls-dir` (default `<data-dir>/tls`, or `~/.kvs-emulator/tls` in memory mode), and `--public-url`.
 */
async function tlsOptionsOf(
  context: CommandContext,
  dataDir: string | undefined,
): Promise<{ tls?: boolean; tlsCert?: Buffer; tlsKey?: Buffer; tlsDir?: string; publicUrl?: string }> {
  const certPath = stringOption(context, 'tls-cert')
  const keyPath = stringOption(context, 'tls-key')
  if ((certPath === undefined) !== (keyPath === undefined))
    throw usageError('--tls-cert and --tls-key go together')
  const read = async (path: string, option: string) => {
    try {
      return await readFile(path)
    } catch (error) {
      throw usageError(`${option}: cannot read ${path}: ${(error as Error).message}`)
    }
  }
  const publicUrl = stringOption(context, 'public-url')
  const options = publicUrl === undefined ? {} : { publicUrl }
  if (certPath !== undefined && keyPath !== undefined) {
    return {
      ...options,
      tlsCert: await read(certPath, '--tls-cert'),
      tlsKey: await read(keyPath, '--tls-key'),
    }
  }
  if (!flag(context, 'tls')) return options
  const tlsDir =
    stringOption(context, 'tls-dir') ??
    (dataDir === undefined ? join(homedir(), '.kvs-emulator', 'tls') : join(dataDir, 'tls'))
  return { ...options, tls: true, tlsDir }
}

/** `kvs emulator`: runs the emulator in the foreground until Ctrl-C / SIGTERM. */
export async function emulatorCommand(context: CommandContext): Promise<number> {
  if (context.positionals.length > 0) throw usageError('kvs emulator takes no arguments')
  const dataDir = flag(context, 'memory') ? undefined : stringOption(context, 'data-dir')
  const credentials = {
    accessKeyId: stringOption(context, 'access-key-id') ?? DEFAULT_CREDENTIALS.accessKeyId,
    secretAccessKey: stringOption(context, 'secret-access-key') ?? DEFAULT_CREDENTIALS.secretAccessKey,
  }
  const region = (await resolveRegion({ ...context.global, profile: undefined }))?.value ?? 'us-east-1'
  const verify = !flag(context, 'no-verify')
  const tlsOptions = await tlsOptionsOf(context, dataDir)
  const cors = !flag(context, 'no-cors')
  const consoleOn = !flag(context, 'no-console')
  const memoryBudget = maxMemory(context)
  const emulator = await startEmulator({
    port: port(context),
    host: stringOption(context, 'host') ?? '127.0.0.1',
    ...(dataDir === undefined ? { storage: 'memory' as const } : { storage: 'disk' as const, dataDir }),
    credentials: [credentials],
    verifySignatures: verify,
    cors,
    console: consoleOn,
    region,
    ...getMediaIdle(context),
    ...memoryBudget,
    logger: createConsoleLogger({ verbose: context.global.debug }),
    ...tlsOptions,
  })
  const { stdout } = context.io
  if (context.global.json) {
    await write(
      stdout,
      `${JSON.stringify({ type: 'listening', url: emulator.url, region, storage: dataDir === undefined ? 'memory' : 'disk', dataDir, ...memoryBudget, credentials, verifySignatures: verify, cors, console: emulator.consoleUrl, caPath: emulator.caPath, publicUrl: emulator.publicUrl })}\n`,
    )
  } else {
    const lines = [
      `kvs emulator listening on ${emulator.url}`,
      ...(emulator.consoleUrl === undefined ? [] : [`  console     ${emulator.consoleUrl}`]),
      `  region      ${region}`,
      `  storage     ${dataDir === undefined ? 'memory (lost on exit)' : `disk (${dataDir})`}`,
      `  signatures  ${verify ? 'checked (SigV4)' : 'not checked'}`,
      `  CORS        ${cors ? 'any origin (pages may call it with fetch)' : 'off'}`,
      ...(emulator.caPath === undefined ? [] : [`  TLS CA      ${emulator.caPath}`]),
      ...(emulator.publicUrl === undefined ? [] : [`  public URL  ${emulator.publicUrl} (GetDataEndpoint)`]),
      '',
      'Use it from another shell:',
      `  export AWS_ENDPOINT_URL=${emulator.url} AWS_REGION=${region}`,
      `  export AWS_ACCESS_KEY_ID=${credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${credentials.secretAccessKey}`,
      ...(emulator.caPath === undefined ? [] : [`  export AWS_CA_BUNDLE=${emulator.caPath}`]),
      '  kvs streams create demo && kvs put demo video.mkv',
      '',
      'Ctrl-C stops it.',
      '',
    ]
    await write(stdout, lines.join('\n'))
  }
  const { signal } = context.io
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), { once: true })
  })
  context.io.stderr.write('kvs emulator: stopping\n')
  await emulator.close()
  return 0
}
