#!/usr/bin/env node
import { runCli } from './cli.ts'

// The AWS SDK warns on every run under Node 20 about its own future Node support; that is not the user's
// concern when running a command (set the variable to "false" to see it).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

const controller = new AbortController()
let interrupts = 0
const interrupt = (signal: NodeJS.Signals): void => {
  interrupts++
  // A second Ctrl-C does not wait for the clean stop.
  if (interrupts > 1) process.exit(130)
  controller.abort(new Error(`interrupted by ${signal}`))
}
process.on('SIGINT', interrupt)
process.on('SIGTERM', interrupt)
// `kvs get | head -c 1000`: the reader went away, stop quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') controller.abort(error)
})

const status = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
})
process.exitCode = status
// Sockets kept alive by the SDK or undici must not hold the process open once the command is done.
setTimeout(() => process.exit(status), 2000).unref()
