#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startEmulator } from './emulator.ts'
import { createConsoleLogger } from './logger.ts'
import { DEFAULT_CREDENTIALS } from './options.ts'

const usage = `Usage: kvs-emulator [options]

A local Amazon Kinesis Video Streams endpoint: control plane, SigV4, PutMedia with acks.

Options:
  --port <n>                 TCP port (default 4567; 0 picks a free one)
  --host <address>           address to bind (default 127.0.0.1)
  --data-dir <path>          keep streams and fragments on disk in this directory
  --memory                   keep everything in memory (the default without --data-dir)
  --no-verify                accept requests without checking SigV4 signatures
  --region <name>            region of the endpoint (default us-east-1)
  --access-key-id <id>       accepted access key id (default ${DEFAULT_CREDENTIALS.accessKeyId})
  --secret-access-key <key>  its secret (default ${DEFAULT_CREDENTIALS.secretAccessKey})
  --stream-activation-delay <ms>  time a new stream stays CREATING (default 0)
  --get-media-idle-timeout <ms>  a GetMedia response that sent every fragment ends once none comes for this
                             long (default 3000)
  --tls                      serve HTTPS with a certificate signed by the emulator's own CA (made at first
                             start, kept in --tls-dir; its path is printed for AWS_CA_BUNDLE)
  --tls-cert <path>          serve HTTPS with this PEM certificate (chain) instead; needs --tls-key
  --tls-key <path>           the PEM private key of --tls-cert
  --tls-dir <path>           where the generated CA and certificate live (default <data-dir>/tls, or
                             ~/.kvs-emulator/tls without --data-dir)
  --public-url <url>         URL clients reach the emulator by (behind a proxy, in a container):
                             GetDataEndpoint returns it (default: the emulator's own scheme, host and port)
  --no-console               do not serve the local console (a web page at / that lists the streams, their
                             fragments and acks, and plays them with hls.js)
  --verbose                  log every request
  -h, --help                 show this help
`

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4567' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string' },
      memory: { type: 'boolean', default: false },
      'no-verify': { type: 'boolean', default: false },
      region: { type: 'string', default: 'us-east-1' },
      'access-key-id': { type: 'string', default: DEFAULT_CREDENTIALS.accessKeyId },
      'secret-access-key': { type: 'string', default: DEFAULT_CREDENTIALS.secretAccessKey },
      'stream-activation-delay': { type: 'string', default: '0' },
      'get-media-idle-timeout': { type: 'string', default: '3000' },
      tls: { type: 'boolean', default: false },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-dir': { type: 'string' },
      'public-url': { type: 'string' },
      'no-console': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(usage)
    return
  }
  const port = Number(values.port)
  const dataDir = values.memory ? undefined : values['data-dir']
  const credentials = { accessKeyId: values['access-key-id'], secretAccessKey: values['secret-access-key'] }
  const tlsCert = values['tls-cert'] === undefined ? undefined : readFileSync(values['tls-cert'])
  const tlsKey = values['tls-key'] === undefined ? undefined : readFileSync(values['tls-key'])
  const tls = values.tls || tlsCert !== undefined
  const tlsDir =
    values['tls-dir'] ??
    (dataDir === undefined ? join(homedir(), '.kvs-emulator', 'tls') : join(dataDir, 'tls'))
  const emulator = await startEmulator({
    port,
    host: values.host,
    ...(dataDir === undefined ? { storage: 'memory' as const } : { dataDir, storage: 'disk' as const }),
    verifySignatures: !values['no-verify'],
    region: values.region,
    credentials: [credentials],
    streamActivationDelayMs: Number(values['stream-activation-delay']),
    getMediaIdleTimeoutMs: Number(values['get-media-idle-timeout']),
    ...(tls ? { tls, tlsDir } : {}),
    ...(tlsCert === undefined ? {} : { tlsCert }),
    ...(tlsKey === undefined ? {} : { tlsKey }),
    ...(values['public-url'] === undefined ? {} : { publicUrl: values['public-url'] }),
    console: !values['no-console'],
    logger: createConsoleLogger({ verbose: values.verbose }),
  })
  // Before the lines that say it is listening: a supervisor may stop it as soon as it reads them.
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    process.stderr.write(`kvs-emulator: ${signal}, closing\n`)
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`kvs-emulator: ${String(error)}\n`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
  const lines = [
    `kvs-emulator listening on ${emulator.url}`,
    ...(emulator.consoleUrl === undefined ? [] : [`  console:  ${emulator.consoleUrl}`]),
    `  region:   ${emulator.region}`,
    `  storage:  ${dataDir === undefined ? 'memory (lost on exit)' : `disk (${dataDir})`}`,
    `  signatures: ${values['no-verify'] ? 'not checked' : 'checked (SigV4, service kinesisvideo)'}`,
    ...(emulator.publicUrl === undefined ? [] : [`  public URL: ${emulator.publicUrl} (GetDataEndpoint)`]),
    ...(emulator.caPath === undefined ? [] : [`  TLS CA:   ${emulator.caPath}`]),
    '',
    'Credentials:',
    `  export AWS_ACCESS_KEY_ID=${credentials.accessKeyId}`,
    `  export AWS_SECRET_ACCESS_KEY=${credentials.secretAccessKey}`,
    ...(emulator.caPath === undefined ? [] : [`  export AWS_CA_BUNDLE=${emulator.caPath}`]),
    '',
    'Try:',
    `  aws kinesisvideo list-streams --endpoint-url ${emulator.url} --region ${emulator.region}`,
    '',
  ]
  process.stdout.write(lines.join('\n'))
}

main().catch((error: unknown) => {
  process.stderr.write(`kvs-emulator: ${error instanceof Error ? error.message : String(error)}\n`)
  if (error instanceof TypeError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    process.stderr.write(usage)
  }
  process.exit(1)
})
