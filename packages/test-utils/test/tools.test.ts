import { describe, expect, it } from 'vitest'
import {
  ffprobeCounts,
  fixturePath,
  hasTool,
  mkvinfoSummary,
  perDocument,
  run,
  TimeoutError,
  ToolFailedError,
  withTimeout,
} from '../src/index.ts'

// Numbers from fixtures/generated/EXPECTED.md (written by describe.mjs, an independent reading).
describe('mkvinfoSummary', () => {
  it('reads the clusters, timecodes, blocks and tracks of the ffmpeg fixture', async () => {
    const summary = await mkvinfoSummary(fixturePath('generated', 'ffmpeg-h264-aac.mkv'))
    expect(summary.segments).toBe(1)
    expect(summary.segmentSizes).toEqual([199531])
    expect(summary.resyncs).toBe(0)
    expect(summary.tracks).toEqual([
      { number: 1, codecId: 'V_MPEG4/ISO/AVC', type: 'video' },
      { number: 2, codecId: 'A_AAC', type: 'audio' },
    ])
    expect(summary.clusters).toBe(4)
    expect(summary.clusterTimecodes).toEqual([21, 938, 1920, 2922])
    expect(summary.clusterSizes).toEqual([46535, 47111, 50803, 54384])
    expect(summary.simpleBlocks).toBe(289)
    expect(summary.blockGroups).toBe(0)
    expect(summary.perTrack).toEqual({
      1: { simpleBlocks: 100, blockGroups: 0, frames: 100, keyBlocks: 4 },
      2: { simpleBlocks: 189, blockGroups: 0, frames: 189, keyBlocks: 189 },
    })
    expect(summary.clusterDetails.map((cluster) => [cluster.simpleBlocks, cluster.blocks[0]?.track])).toEqual(
      [
        [69, 1],
        [71, 2],
        [72, 2],
        [77, 2],
      ],
    )
  })

  it('reports unknown Segment and Cluster sizes of the streamable GStreamer fixture as null', async () => {
    const summary = await mkvinfoSummary(fixturePath('generated', 'gst-streamable.mkv'))
    expect(summary.segmentSizes).toEqual([null])
    expect(summary.clusterSizes).toEqual([null, null, null, null])
    expect(summary.clusterTimecodes).toEqual([0, 1000, 2000, 3000])
    expect(
      summary.clusterDetails.every((cluster) => cluster.blocks[0]?.track === 1 && cluster.blocks[0].key),
    ).toBe(true)
  })

  it('counts BlockGroups, key BlockGroups and laced frames of the mkvmerge fixture', async () => {
    const summary = await mkvinfoSummary(fixturePath('generated', 'mkvmerge-blockgroups.mkv'))
    expect(summary.simpleBlocks).toBe(0)
    expect(summary.blockGroups).toBe(124)
    expect(summary.clusterTimecodes).toEqual([0, 1021, 2021, 3021])
    expect(summary.perTrack[1]).toEqual({ simpleBlocks: 0, blockGroups: 100, frames: 100, keyBlocks: 4 })
    expect(summary.perTrack[2]).toMatchObject({ blockGroups: 24, frames: 189 })
  })

  it('reads across concatenated GetMedia documents with one resync per extra document', async () => {
    const summary = await mkvinfoSummary(fixturePath('kvs-getmedia', 'output_get_media.mkv'))
    expect(summary.resyncs).toBe(4)
    expect(summary.clusterTimecodes).toEqual([0, 2000, 4000, 6000, 8000])
    expect(summary.tracks).toEqual([{ number: 1, codecId: 'V_MPEG4/ISO/AVC', type: 'video' }])
  })

  it('gives one clean summary per document with perDocument', async () => {
    const summaries = await perDocument(fixturePath('kvs-getmedia', 'test_mixed_tags.mkv'), mkvinfoSummary)
    expect(summaries).toHaveLength(10)
    expect(summaries.map((summary) => summary.resyncs)).toEqual(Array(10).fill(0))
    expect(summaries.map((summary) => summary.clusterTimecodes)).toEqual(
      Array.from({ length: 10 }, (_, i) => [i * 5000]),
    )
    expect(
      summaries.every((summary) => summary.clusterSizes[0] === null && summary.simpleBlocks === 10),
    ).toBe(true)
  })
})

describe('ffprobeCounts', () => {
  it('counts the packets of each stream of the ffmpeg fixture', async () => {
    expect(await ffprobeCounts(fixturePath('generated', 'ffmpeg-h264-aac.mkv'))).toEqual({
      streams: [
        { index: 0, codec: 'h264', codecType: 'video' },
        { index: 1, codec: 'aac', codecType: 'audio' },
      ],
      packetsPerStream: [100, 189],
    })
  })

  it('counts each laced frame as a packet', async () => {
    const counts = await ffprobeCounts(fixturePath('generated', 'mkvmerge-blockgroups.mkv'))
    expect(counts.packetsPerStream).toEqual([100, 189])
  })

  it('gives per-document packet counts for GetMedia output', async () => {
    const file = fixturePath('kvs-getmedia', 'kinesis_video_renderer_example_output.mkv')
    const perFragment = await perDocument(file, ffprobeCounts)
    expect(perFragment.map((counts) => counts.packetsPerStream)).toEqual([
      [59],
      [59],
      [59],
      [59],
      [59],
      [59],
      [59],
      [31],
    ])
  })

  it('rejects with ToolFailedError for a file ffprobe cannot open', async () => {
    const error = await ffprobeCounts(fixturePath('kvs-getmedia', 'test_tags_empty_cluster.mkv')).catch(
      (e) => e,
    )
    expect(ToolFailedError.is(error)).toBe(true)
    expect(error).toMatchObject({ code: 'ERR_KVS_TEST_TOOL_FAILED', exitCode: 1 })
  })
})

describe('run and hasTool', () => {
  it('finds executables on PATH and not made-up names', () => {
    expect(hasTool('node')).toBe(true)
    expect(hasTool('surely-not-a-tool-kvs-streams')).toBe(false)
  })

  it('feeds input and collects stdout, stderr and the exit status', async () => {
    const script = 'process.stdin.pipe(process.stdout); process.stderr.write("e"); process.exitCode = 3'
    const result = await run(process.execPath, ['-e', script], { input: 'hello' })
    expect(result).toMatchObject({ stdout: 'hello', stderr: 'e', code: 3 })
    expect(result.stdoutBytes).toEqual(new TextEncoder().encode('hello'))
  })

  it('kills a command that runs too long and rejects with TimeoutError', async () => {
    const started = run(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { timeoutMs: 200 })
    const error = await started.catch((e) => e)
    expect(TimeoutError.is(error)).toBe(true)
    expect(error).toMatchObject({ code: 'ERR_KVS_TEST_TIMEOUT', timeoutMs: 200 })
  })

  it('rejects when the command does not exist', async () => {
    await expect(run('surely-not-a-tool-kvs-streams', [])).rejects.toMatchObject({ code: 'ENOENT' })
  })
})

describe('withTimeout', () => {
  it('settles like the promise when it is in time', async () => {
    await expect(withTimeout(Promise.resolve(42), 1000, 'answer')).resolves.toBe(42)
    await expect(withTimeout(Promise.reject(new Error('no')), 1000, 'answer')).rejects.toThrow('no')
  })

  it('rejects with a TimeoutError naming the label when the promise is late', async () => {
    const never = new Promise(() => {})
    await expect(withTimeout(never, 10, 'the ack stream')).rejects.toThrow(
      'the ack stream did not finish within 10 ms',
    )
  })
})
