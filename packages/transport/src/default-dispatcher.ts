import { Agent, type Dispatcher } from 'undici'

/** One shared keep-alive agent per connect timeout, so calls without a `dispatcher` reuse connections. */
const agents = new Map<number, Agent>()

/**
 * The dispatcher used when the caller passes none: a process-wide undici `Agent` whose `connect.timeout` is
 * `connectTimeoutMs` (0 → undici's default), so a hung connect attempt is also cut at the socket level.
 * Each PutMedia session takes a connection of its own (a streaming body is never pipelined).
 */
export function defaultDispatcher(connectTimeoutMs: number): Dispatcher {
  let agent = agents.get(connectTimeoutMs)
  if (agent === undefined) {
    agent = new Agent(connectTimeoutMs > 0 ? { connect: { timeout: connectTimeoutMs } } : {})
    agents.set(connectTimeoutMs, agent)
  }
  return agent
}
