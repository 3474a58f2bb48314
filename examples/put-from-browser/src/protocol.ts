// What the page, its worker and the Node side (main.ts) exchange.

/** Served as /config.json by main.ts. */
export interface PageConfig {
  /** The emulator (control plane) as the browser reaches it. */
  controlEndpoint: string
  region: string
  /** Default stream (the page's `?stream=` query parameter overrides it, as `?source=` and `?fragments=` do). */
  streamName: string
  /** Stop recording once this many fragments are PERSISTED (the ones recorded meanwhile are put too). */
  fragments: number
  /** `canvas` (a painted frame counter) or `camera` (getUserMedia; Chromium's fake device in tests). */
  source: 'canvas' | 'camera'
  /** `videoKeyFrameIntervalDuration` asked of MediaRecorder, ms: about one fragment each. */
  keyFrameIntervalMs: number
}

/** One fragment's outcome. */
export interface PutSummary {
  index: number
  fragmentTimecode: number
  fragmentNumber: string
  attempts: number
  /** Event types of the acks its response carried, in order. */
  acks: string[]
}

/** A fragment as the chunker cut it. */
export interface ChunkedSummary {
  index: number
  timecode: number
  blockCount: number
  keyframe: boolean
  durationMs: number
  byteLength: number
}

/** What a run reports (as `window.kvsResult`). */
export interface PageResult {
  /** The recorder's type; `undefined` for the worker, which puts a file. */
  mimeType: string | undefined
  acknowledged: PutSummary[]
  fragments: ChunkedSummary[]
  /** The chunker's violations, `kind: message`. */
  violations: string[]
  /** Requests that failed and were sent again. */
  retries: number
}

/** The page's message to its worker. */
export interface WorkerRequest {
  config: PageConfig
  streamName: string
  /** URL of an MKV file to put. */
  fixture: string
}
