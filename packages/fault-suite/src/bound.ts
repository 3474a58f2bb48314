/** A client run that did not finish within its bound: the suite's "hang". */
export class HangError extends Error {
  override name = 'HangError'
  readonly code = 'ERR_KVS_FAULT_SUITE_HANG'
  readonly boundMs: number

  constructor(what: string, boundMs: number) {
    super(`${what} did not finish within ${boundMs} ms (hang)`)
    this.boundMs = boundMs
  }
}

/**
 * Resolves as `work` does, or rejects with `HangError` after `boundMs`. The timer is a plain `setTimeout`
 * held here, so forced GCs cannot collect it.
 */
export async function within<T>(what: string, boundMs: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HangError(what, boundMs)), boundMs)
  })
  try {
    return await Promise.race([work, hang])
  } finally {
    clearTimeout(timer)
  }
}
