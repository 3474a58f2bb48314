import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import forge from 'node-forge'
import { EmulatorError } from '../errors.ts'

/** A certificate chain and its private key, PEM. */
export interface TlsCredentials {
  /** The server certificate (then the CA's, for clients that want the chain). */
  cert: string
  key: string
}

/** The emulator's own certificates: a CA and a server certificate it signed. */
export interface GeneratedCertificates extends TlsCredentials {
  /** The CA certificate clients must trust (PEM). */
  caCertificate: string
  /** Where the CA certificate is kept (`undefined` when generated in memory only). */
  caPath: string | undefined
}

/** File names inside the certificate directory. */
export const CA_CERT_FILE = 'ca.pem'
const CA_KEY_FILE = 'ca-key.pem'
const SERVER_CERT_FILE = 'server.pem'
const SERVER_KEY_FILE = 'server-key.pem'

const DAY_MS = 86_400_000
/** The CA lives ten years, so the `AWS_CA_BUNDLE` users set keeps working. */
const CA_LIFETIME_MS = 3650 * DAY_MS
/** Under the 398 days clients such as Apple's accept for a server certificate. */
const SERVER_LIFETIME_MS = 365 * DAY_MS
/** A certificate with less than this left is replaced at start-up. */
const RENEW_BEFORE_MS = 30 * DAY_MS

/** The names a generated server certificate always covers. */
export const DEFAULT_CERTIFICATE_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1']

function newKeyPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  })
}

/** A random positive serial number (16 bytes, high bit clear). */
function serialNumber(): string {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0]! & 0x7f) | 0x01
  return bytes.toString('hex')
}

/** SHA-1 of the RSAPublicKey: the key identifier forge writes in `subjectKeyIdentifier` (raw bytes). */
function subjectKeyId(publicKey: forge.pki.PublicKey): string {
  return forge.pki.getPublicKeyFingerprint(publicKey).getBytes()
}

interface CertificateRequest {
  commonName: string
  publicKey: string
  /** Signs the certificate; with `issuer` undefined the certificate is self-signed with it. */
  signingKey: string
  issuer: forge.pki.Certificate | undefined
  nowMs: number
  lifetimeMs: number
  extensions: object[]
}

function issue(request: CertificateRequest): forge.pki.Certificate {
  const certificate = forge.pki.createCertificate()
  certificate.publicKey = forge.pki.publicKeyFromPem(request.publicKey)
  certificate.serialNumber = serialNumber()
  // A minute back, for clients whose clock is a little behind.
  certificate.validity.notBefore = new Date(request.nowMs - 60_000)
  certificate.validity.notAfter = new Date(request.nowMs + request.lifetimeMs)
  const subject = [
    { name: 'commonName', value: request.commonName },
    { name: 'organizationName', value: 'kvs-streams emulator' },
  ]
  certificate.setSubject(subject)
  certificate.setIssuer(request.issuer === undefined ? subject : request.issuer.subject.attributes)
  const issuerKey =
    request.issuer === undefined ? certificate.publicKey : (request.issuer.publicKey as forge.pki.PublicKey)
  certificate.setExtensions([
    ...request.extensions,
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: subjectKeyId(issuerKey) },
  ])
  certificate.sign(forge.pki.privateKeyFromPem(request.signingKey), forge.md.sha256.create())
  return certificate
}

/** Creates a self-signed CA for the emulator. */
function createAuthority(nowMs: number): { cert: string; key: string } {
  const keys = newKeyPair()
  const certificate = issue({
    commonName: 'kvs-streams emulator local CA',
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    issuer: undefined,
    nowMs,
    lifetimeMs: CA_LIFETIME_MS,
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  })
  return { cert: forge.pki.certificateToPem(certificate), key: keys.privateKey }
}

/** Creates a server certificate for `hosts` (names and IP addresses), signed by the CA. */
function createServerCertificate(
  authority: { cert: string; key: string },
  hosts: readonly string[],
  nowMs: number,
): { cert: string; key: string } {
  const keys = newKeyPair()
  const certificate = issue({
    commonName: hosts[0] ?? 'localhost',
    publicKey: keys.publicKey,
    signingKey: authority.key,
    issuer: forge.pki.certificateFromPem(authority.cert),
    nowMs,
    lifetimeMs: SERVER_LIFETIME_MS,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: hosts.map((host) => (isIP(host) === 0 ? { type: 2, value: host } : { type: 7, ip: host })),
      },
    ],
  })
  return { cert: forge.pki.certificateToPem(certificate), key: keys.privateKey }
}

/** Whether a stored certificate is still good for `nowMs` + the renewal margin (and `check`). */
function usable(
  pem: string | undefined,
  nowMs: number,
  check: (certificate: X509Certificate) => boolean,
): boolean {
  if (pem === undefined) return false
  try {
    const certificate = new X509Certificate(pem)
    return Date.parse(certificate.validTo) > nowMs + RENEW_BEFORE_MS && check(certificate)
  } catch {
    return false
  }
}

function covers(certificate: X509Certificate, hosts: readonly string[]): boolean {
  return hosts.every((host) =>
    isIP(host) === 0 ? certificate.checkHost(host) !== undefined : certificate.checkIP(host) !== undefined,
  )
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/**
 * The emulator's CA and a server certificate for `hosts`, from `directory` when it holds usable ones, else
 * made anew and stored there (keys readable by the owner only). The CA is kept as long as it is valid, so a
 * client's trust in it survives restarts and new hosts; the server certificate is replaced when it expires
 * within 30 days or does not cover every host. Without a directory, both live in memory only.
 */
export async function loadOrCreateCertificates(
  directory: string | undefined,
  hosts: readonly string[],
  nowMs: number,
): Promise<GeneratedCertificates> {
  const names = [...new Set([...DEFAULT_CERTIFICATE_HOSTS, ...hosts])]
  if (directory === undefined) {
    const authority = createAuthority(nowMs)
    const server = createServerCertificate(authority, names, nowMs)
    return {
      cert: server.cert + authority.cert,
      key: server.key,
      caCertificate: authority.cert,
      caPath: undefined,
    }
  }
  const path = (name: string) => join(directory, name)
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 })
    let caCert = await readOptional(path(CA_CERT_FILE))
    let caKey = await readOptional(path(CA_KEY_FILE))
    let serverCert = await readOptional(path(SERVER_CERT_FILE))
    let serverKey = await readOptional(path(SERVER_KEY_FILE))
    if (caKey === undefined || !usable(caCert, nowMs, (certificate) => certificate.ca)) {
      const authority = createAuthority(nowMs)
      caCert = authority.cert
      caKey = authority.key
      await writeFile(path(CA_KEY_FILE), caKey, { mode: 0o600 })
      await chmod(path(CA_KEY_FILE), 0o600)
      await writeFile(path(CA_CERT_FILE), caCert)
      serverCert = undefined
    }
    const caPublicKey = new X509Certificate(caCert!).publicKey
    if (
      serverKey === undefined ||
      !usable(
        serverCert,
        nowMs,
        (certificate) => certificate.verify(caPublicKey) && covers(certificate, names),
      )
    ) {
      const server = createServerCertificate({ cert: caCert!, key: caKey }, names, nowMs)
      serverCert = server.cert
      serverKey = server.key
      await writeFile(path(SERVER_KEY_FILE), serverKey, { mode: 0o600 })
      await chmod(path(SERVER_KEY_FILE), 0o600)
      await writeFile(path(SERVER_CERT_FILE), serverCert)
    }
    return { cert: serverCert! + caCert!, key: serverKey, caCertificate: caCert!, caPath: path(CA_CERT_FILE) }
  } catch (error) {
    throw new EmulatorError(
      'ERR_KVS_EMULATOR_TLS',
      `cannot keep TLS certificates in ${directory}: ${String(error)}`,
      {
        cause: error,
        path: directory,
      },
    )
  }
}
