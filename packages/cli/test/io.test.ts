import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { flushed } from '../src/io.ts'

/** A writable whose writes each take `ms` to complete, recording what it completed. */
function slowWritable(ms: number, highWaterMark = 1024 * 1024) {
  const completed: number[] = []
  const stream = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      setTimeout(() => {
        completed.push(chunk.length)
        callback()
      }, ms)
    },
  })
  return { stream, completed }
}

describe('flushed', () => {
  it('resolves once writes that stayed under the high-water mark have completed (no drain event comes)', async () => {
    const { stream, completed } = slowWritable(20)
    expect(stream.write(Buffer.alloc(1000))).toBe(true)
    expect(stream.write(Buffer.alloc(2000))).toBe(true)
    expect(stream.write(Buffer.alloc(3000))).toBe(true)
    await flushed(stream)
    expect(completed.filter((length) => length > 0)).toEqual([1000, 2000, 3000])
    expect(stream.writableLength).toBe(0)
  })

  it('resolves once writes over the high-water mark have completed', async () => {
    const { stream, completed } = slowWritable(5, 1024)
    for (let i = 0; i < 5; i++) stream.write(Buffer.alloc(4096))
    expect(stream.writableNeedDrain).toBe(true)
    await flushed(stream)
    expect(completed.filter((length) => length > 0)).toHaveLength(5)
  })

  it('resolves at once when nothing is pending, and for a destroyed stream', async () => {
    const { stream } = slowWritable(1000)
    await flushed(stream)
    stream.write(Buffer.alloc(10))
    stream.destroy()
    await flushed(stream)
  })

  it('resolves when the stream is destroyed while its writes are pending', async () => {
    const { stream } = slowWritable(10_000)
    stream.write(Buffer.alloc(10))
    const waiting = flushed(stream)
    setTimeout(() => stream.destroy(new Error('reader gone')), 20)
    stream.on('error', () => {})
    await waiting
    expect(stream.destroyed).toBe(true)
  })

  it('resolves once an ended stream has finished', async () => {
    const { stream, completed } = slowWritable(20)
    stream.write(Buffer.alloc(7))
    stream.end()
    await flushed(stream)
    expect(stream.writableFinished).toBe(true)
    expect(completed).toEqual([7])
  })
})
