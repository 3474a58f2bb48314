import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The emulator's built bin (`pnpm build` first; `pnpm test` does). */
export const emulatorBin = fileURLToPath(new URL('../../emulator/dist/bin.js', import.meta.url))

/** The emulator's bin running as a child process. */
export interface EmulatorProcess {
  child: ChildProcess
  url: string
  port: number
  exited: Promise<number | null>
}

export interface EmulatorProcessOptions {
  /** TCP port; 0 picks a free one. */
  port: number
  dataDir: string
  /**
   * Address to bind. Default 127.0.0.1. With 0.0.0.0 the emulator answers GetDataEndpoint with the address
   * the client used, so a client that reaches it through a proxy keeps its data plane on the proxy.
   */
  host?: string
}

/** Starts `node packages/emulator/dist/bin.js --port P --data-dir D [--host H]` and waits until it listens. */
export function startEmulatorProcess(options: EmulatorProcessOptions): Promise<EmulatorProcess> {
  const args = [emulatorBin, '--port', String(options.port), '--data-dir', options.dataDir]
  if (options.host !== undefined) args.push('--host', options.host)
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    let output = ''
    let errors = ''
    child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()))
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1]
      if (url !== undefined) {
        const port = Number(new URL(url).port)
        resolve({ child, url: `http://127.0.0.1:${port}`, port, exited })
      }
    })
    void exited.then((code) => reject(new Error(`kvs-emulator exited (${code}) before listening: ${errors}`)))
  })
}

/** kill -9, and wait for the process to be gone. */
export async function killHard(running: EmulatorProcess): Promise<void> {
  if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL')
  await running.exited
}
