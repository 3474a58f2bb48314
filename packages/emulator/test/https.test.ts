import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetDataEndpointCommand,
  KinesisVideoClient,
} from '@aws-sdk/client-kinesis-video'
import {
  KinesisVideoArchivedMediaClient,
  ListFragmentsCommand,
} from '@aws-sdk/client-kinesis-video-archived-media'
import { describe, expect, it, onTestFinished } from 'vitest'
import { EmulatorError, type EmulatorOptions, startEmulator } from '../src/index.ts'
import { callJson, createStream, testEmulator } from './support/client.ts'

/** The Debian AWS CLI v2 (a v1 may come first on PATH). */
const AWS = '/usr/bin/aws'

function temporaryDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kvs-emulator-tls-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Runs the AWS CLI v2 with the emulator's credentials and nothing else from the environment. */
function aws(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')))
  return new Promise((resolve) => {
    execFile(
      AWS,
      args,
      {
        env: {
          ...clean,
          AWS_ACCESS_KEY_ID: 'AKIDKVSEMULATOR',
          AWS_SECRET_ACCESS_KEY: 'kvs-emulator-secret',
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          AWS_PAGER: '',
          AWS_MAX_ATTEMPTS: '1',
          ...env,
        },
        timeout: 30_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** An unsigned POST over HTTPS trusting `ca`: resolves with the status (the TLS handshake is what is tested). */
function postTrusting(url: string, ca: string | undefined, servername?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      new URL('/listStreams', url),
      {
        method: 'POST',
        ...(ca === undefined ? {} : { ca }),
        ...(servername ? { servername } : {}),
        agent: false,
      },
      (response) => {
        response.resume()
        response.on('end', () => resolve(response.statusCode ?? 0))
      },
    )
    request.on('error', reject)
    request.end('{}')
  })
}

describe('HTTPS with the emulator’s own CA', () => {
  it('serves the AWS CLI v2 trusting the CA it printed (AWS_CA_BUNDLE and --ca-bundle), and refuses it without', async () => {
    const tlsDir = temporaryDir()
    const emulator = await testEmulator({ tls: true, tlsDir })
    expect(emulator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(emulator.caPath).toBe(join(tlsDir, 'ca.pem'))
    const common = ['--endpoint-url', emulator.url, '--region', emulator.region, '--output', 'json']

    const version = await aws(['--version'])
    expect(version.stdout).toMatch(/^aws-cli\/2\./)
    const created = await aws(['kinesisvideo', 'create-stream', '--stream-name', 'tls-cli', ...common], {
      AWS_CA_BUNDLE: emulator.caPath!,
    })
    expect(created.stderr).toBe('')
    expect(JSON.parse(created.stdout).StreamARN).toMatch(/:stream\/tls-cli\/\d+$/)
    const endpoint = await aws([
      'kinesisvideo',
      'get-data-endpoint',
      '--stream-name',
      'tls-cli',
      '--api-name',
      'LIST_FRAGMENTS',
      '--ca-bundle',
      emulator.caPath!,
      ...common,
    ])
    expect(endpoint.stderr).toBe('')
    expect(JSON.parse(endpoint.stdout)).toEqual({ DataEndpoint: emulator.url })
    const listed = await aws(
      ['kinesis-video-archived-media', 'list-fragments', '--stream-name', 'tls-cli', ...common],
      { AWS_CA_BUNDLE: emulator.caPath! },
    )
    expect(listed.stderr).toBe('')
    expect(JSON.parse(listed.stdout)).toEqual({ Fragments: [] })

    const untrusting = await aws(['kinesisvideo', 'list-streams', ...common])
    expect(untrusting.code).not.toBe(0)
    expect(untrusting.stderr).toMatch(/SSL validation failed .*CERTIFICATE_VERIFY_FAILED/)
  }, 120_000)

  it('serves the AWS SDK for JavaScript given the CA through its https agent; GetDataEndpoint is https://', async () => {
    const emulator = await testEmulator({ tls: true })
    expect(emulator.caPath).toBeUndefined()
    const requestHandler = { httpsAgent: new HttpsAgent({ ca: emulator.caCertificate! }) }
    const config = { region: emulator.region, credentials: { ...emulator.credentials[0]! }, requestHandler }
    const kvs = new KinesisVideoClient({ ...config, endpoint: emulator.url })
    onTestFinished(() => kvs.destroy())
    await kvs.send(new CreateStreamCommand({ StreamName: 'tls-sdk', DataRetentionInHours: 1 }))
    const { StreamInfo } = await kvs.send(new DescribeStreamCommand({ StreamName: 'tls-sdk' }))
    expect(StreamInfo?.Status).toBe('ACTIVE')
    const { DataEndpoint } = await kvs.send(
      new GetDataEndpointCommand({ StreamName: 'tls-sdk', APIName: 'LIST_FRAGMENTS' }),
    )
    expect(DataEndpoint).toBe(emulator.url)
    const archived = new KinesisVideoArchivedMediaClient({ ...config, endpoint: DataEndpoint! })
    onTestFinished(() => archived.destroy())
    expect((await archived.send(new ListFragmentsCommand({ StreamName: 'tls-sdk' }))).Fragments).toEqual([])

    const untrusting = new KinesisVideoClient({
      region: emulator.region,
      credentials: config.credentials,
      endpoint: emulator.url,
    })
    onTestFinished(() => untrusting.destroy())
    await expect(untrusting.send(new DescribeStreamCommand({ StreamName: 'tls-sdk' }))).rejects.toThrow(
      /self.signed certificate/,
    )
  })

  it('keeps its CA across restarts, with private keys readable by the owner only', async () => {
    const tlsDir = temporaryDir()
    const first = await startEmulator({ tls: true, tlsDir })
    await first.close()
    const ca = readFileSync(join(tlsDir, 'ca.pem'), 'utf8')
    const server = readFileSync(join(tlsDir, 'server.pem'), 'utf8')
    for (const key of ['ca-key.pem', 'server-key.pem']) {
      expect(statSync(join(tlsDir, key)).mode & 0o777, key).toBe(0o600)
    }
    const authority = new X509Certificate(ca)
    expect(authority.ca).toBe(true)
    const certificate = new X509Certificate(server)
    expect(certificate.ca).toBe(false)
    expect(certificate.verify(authority.publicKey)).toBe(true)
    expect(certificate.checkIssued(authority)).toBe(true)
    expect(certificate.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1')
    expect(Date.parse(certificate.validTo) - Date.now()).toBeGreaterThan(360 * 86_400_000)

    const second = await testEmulator({ tls: true, tlsDir })
    expect(second.caCertificate).toBe(ca)
    expect(readFileSync(join(tlsDir, 'server.pem'), 'utf8')).toBe(server)
    expect(await postTrusting(second.url, ca)).toBe(403)
  })

  it('issues a new server certificate from the same CA for a host the old one does not cover', async () => {
    const tlsDir = temporaryDir()
    await (await startEmulator({ tls: true, tlsDir })).close()
    const ca = readFileSync(join(tlsDir, 'ca.pem'), 'utf8')
    const emulator = await testEmulator({ tls: true, tlsDir, publicUrl: 'https://kvs.test:8443' })
    expect(emulator.caCertificate).toBe(ca)
    const certificate = new X509Certificate(readFileSync(join(tlsDir, 'server.pem')))
    expect(certificate.checkHost('kvs.test')).toBe('kvs.test')
    expect(certificate.checkHost('localhost')).toBe('localhost')
    expect(certificate.verify(new X509Certificate(ca).publicKey)).toBe(true)
    expect(await postTrusting(emulator.url, ca, 'kvs.test')).toBe(403)
  })

  it('keeps the certificates in <dataDir>/tls with disk storage', async () => {
    const dataDir = temporaryDir()
    const emulator = await testEmulator({ dataDir, tls: true })
    expect(emulator.caPath).toBe(join(dataDir, 'tls', 'ca.pem'))
    expect(statSync(join(dataDir, 'tls', 'server.pem')).isFile()).toBe(true)
  })

  it('hands out https:// with the Host the client used when bound to every interface', async () => {
    const emulator = await testEmulator({ tls: true, host: '0.0.0.0' })
    const kvs = new KinesisVideoClient({
      region: emulator.region,
      credentials: { ...emulator.credentials[0]! },
      endpoint: emulator.url,
      requestHandler: { httpsAgent: new HttpsAgent({ ca: emulator.caCertificate! }) },
    })
    onTestFinished(() => kvs.destroy())
    await kvs.send(new CreateStreamCommand({ StreamName: 'anywhere' }))
    const { DataEndpoint } = await kvs.send(
      new GetDataEndpointCommand({ StreamName: 'anywhere', APIName: 'PUT_MEDIA' }),
    )
    expect(DataEndpoint).toBe(`https://127.0.0.1:${emulator.port}`)
  })
})

describe('HTTPS with the user’s certificate', () => {
  it('serves tlsCert and tlsKey and makes no CA of its own', async () => {
    const tlsDir = temporaryDir()
    await (await startEmulator({ tls: true, tlsDir })).close()
    const ca = readFileSync(join(tlsDir, 'ca.pem'), 'utf8')
    const emulator = await testEmulator({
      tlsCert: readFileSync(join(tlsDir, 'server.pem')),
      tlsKey: readFileSync(join(tlsDir, 'server-key.pem'), 'utf8'),
    })
    expect(emulator.url).toMatch(/^https:/)
    expect(emulator.caCertificate).toBeUndefined()
    expect(emulator.caPath).toBeUndefined()
    expect(await postTrusting(emulator.url, ca)).toBe(403)
    await expect(postTrusting(emulator.url, undefined)).rejects.toThrow(
      /unable to verify the first certificate/,
    )
  })

  it('refuses a key that does not match the certificate with ERR_KVS_EMULATOR_TLS', async () => {
    const first = temporaryDir()
    const second = temporaryDir()
    await (await startEmulator({ tls: true, tlsDir: first })).close()
    await (await startEmulator({ tls: true, tlsDir: second })).close()
    const error = await startEmulator({
      tlsCert: readFileSync(join(first, 'server.pem')),
      tlsKey: readFileSync(join(second, 'server-key.pem')),
    }).catch((caught: unknown) => caught)
    expect(EmulatorError.is(error)).toBe(true)
    expect((error as EmulatorError).code).toBe('ERR_KVS_EMULATOR_TLS')
  })

  it.each<[EmulatorOptions, string]>([
    [{ tlsCert: 'x' }, 'tlsKey must be given with tlsCert, got undefined'],
    [{ tlsKey: 'x' }, 'tlsCert must be given with tlsKey, got undefined'],
    [
      { tls: false, tlsCert: 'x', tlsKey: 'y' },
      'tls must be true or left out when tlsCert is given, got false',
    ],
    [{ tls: 'yes' as unknown as boolean }, 'tls must be a boolean, got "yes"'],
  ])('rejects %o', async (options, message) => {
    await expect(startEmulator(options)).rejects.toThrow(new TypeError(message))
  })
})

describe('publicUrl', () => {
  it('is what GetDataEndpoint returns, whatever the emulator listens on', async () => {
    const emulator = await testEmulator({ publicUrl: 'https://kvs.example.com:8443/' })
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:/)
    expect(emulator.publicUrl).toBe('https://kvs.example.com:8443')
    await createStream(emulator, 'behind-proxy')
    for (const APIName of ['PUT_MEDIA', 'GET_MEDIA', 'LIST_FRAGMENTS']) {
      const result = await callJson(emulator, '/getDataEndpoint', { StreamName: 'behind-proxy', APIName })
      expect(result.json).toEqual({ DataEndpoint: 'https://kvs.example.com:8443' })
    }
  })

  it.each([
    'https://kvs.example.com/prefix',
    'ftp://kvs.example.com',
    'https://kvs.example.com/?a=1',
    'https://user:pass@kvs.example.com',
    'kvs.example.com:8443',
  ])('refuses %s', async (publicUrl) => {
    await expect(startEmulator({ publicUrl })).rejects.toThrow(
      new TypeError(
        `publicUrl must be an http:// or https:// URL with no path, such as "https://kvs.example.com:8443", got ${JSON.stringify(publicUrl)}`,
      ),
    )
  })
})
