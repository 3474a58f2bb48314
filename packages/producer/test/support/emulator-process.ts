import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const bin = fileURLToPath(new URL('../../../emulator/dist/bin.js', import.meta.url))

/** The emulator's bin running as a child process. */
export interface EmulatorProcess {
  child: ChildProcess
  url: string
  port: number
  exited: Promise<number | null>
}

/** Starts `node packages/emulator/dist/bin.js --port P --data-dir D` and waits until it listens. */
export function startEmulatorProcess(port: number, dataDir: string): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [bin, '--port', String(port), '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    let output = ''
    let errors = ''
    child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()))
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1]
      if (url !== undefined) resolve({ child, url, port: Number(new URL(url).port), exited })
    })
    void exited.then((code) => reject(new Error(`kvs-emulator exited (${code}) before listening: ${errors}`)))
  })
}

/** kill -9, and wait for the process to be gone. */
export async function killHard(running: EmulatorProcess): Promise<void> {
  running.child.kill('SIGKILL')
  await running.exited
}
