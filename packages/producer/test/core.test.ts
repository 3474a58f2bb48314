import type { Ack } from '@kvs-streams/acks'
import type { ChunkerFragmentEvent, HeaderEvent, ViolationEvent } from '@kvs-streams/chunker'
import { exposeGc } from '@kvs-streams/test-utils'
import { KvsHttpError, KvsTimeoutError } from '@kvs-streams/transport'
import { describe, expect, it } from 'vitest'
import {
  createProducerCore,
  type ProducerCommand,
  type ProducerCore,
  type ProducerCoreConfig,
} from '../src/core.ts'
import { ProducerError } from '../src/errors.ts'

/**
 * The producer core, transition by transition, with no socket and no real time: each case is a table of
 * inputs (what the driver would report) and the commands the core answers with, written as short lines.
 */

const T0 = 1_700_000_000_000
const HEADER = new Uint8Array(40)
const HEADER_2 = new Uint8Array(41)
const TRAILER = new Uint8Array(30)

function header(bytes = HEADER): HeaderEvent {
  return { type: 'header', bytes, timecodeScale: 1_000_000, tracks: [] }
}

function fragment(index: number, byteLength = 100): ChunkerFragmentEvent {
  const startMs = index * 1000
  return {
    type: 'fragment',
    index,
    timecode: startMs,
    startMs,
    endMs: startMs + 1000,
    durationMs: 1000,
    byteLength,
    parts: [new Uint8Array(byteLength)],
    offset: 0,
    keyframe: true,
    tracks: [],
    blockCount: 1,
  }
}

function ack(eventType: Ack['eventType'], index?: number, errorId?: number): Ack {
  return {
    eventType,
    ...(index === undefined ? {} : { fragmentTimecode: index * 1000, fragmentNumber: `9100${index}` }),
    ...(errorId === undefined ? {} : { errorId }),
  }
}

const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
const notFound = new KvsHttpError('HTTP 404', { status: 404, errorType: 'ResourceNotFoundException' })
const denied = new KvsHttpError('HTTP 403', { status: 403, errorType: 'AccessDeniedException' })

/** One line per command; `emit` lines name the event. */
function line(command: ProducerCommand): string {
  switch (command.type) {
    case 'prepare':
      return `prepare ${command.sessionId}${command.describe ? ' describe' : ''}`
    case 'open-session':
      return `open ${command.sessionId}${command.header.bytes === HEADER_2 ? ' header-2' : ''}`
    case 'write':
      return `write ${command.sessionId} #${command.fragment.index} ${command.byteLength}`
    case 'end-session':
      return `end ${command.sessionId}`
    case 'destroy-session':
      return `destroy ${command.sessionId}`
    case 'set-timer':
      return `timer ${command.timer} ${command.delayMs}`
    case 'cancel-timer':
      return `cancel ${command.timer}`
    case 'list-fragments':
      return `list ${command.sessionId} ${command.range.startMs - T0}..${command.range.endMs - T0}`
    case 'invalidate-endpoint':
      return `invalidate ${command.api}`
    case 'refresh-credentials':
      return 'refresh-credentials'
    case 'release-input':
      return 'release-input'
    case 'finish':
      return command.error === undefined ? 'finish' : `finish ${codeOf(command.error)}`
    case 'fail':
      return `fail ${codeOf(command.error)}`
    case 'emit': {
      const event = command.event
      switch (event.type) {
        case 'state':
          return `state ${event.state} ${event.sessionId ?? '-'} ${event.reason}`
        case 'ack':
          return `ack ${event.ack.eventType} ${event.ack.fragmentTimecode ?? '-'}`
        case 'fragment-acknowledged':
          return `acknowledged #${event.fragment.index} ${event.acknowledgedBy} sends ${event.sends}`
        case 'fragment-skipped':
          return `skipped #${event.fragment.index} ${event.reason} ${event.fate}`
        case 'reconciliation':
          return `reconciliation ${event.sessionId} ${event.found}/${event.checked}${event.error === undefined ? '' : ' refused'}`
        case 'possible-duplicate':
          return `possible-duplicate #${event.fragment.index} ${event.reason}`
        case 'violation':
          return `violation ${event.violation.errorId ?? '-'}`
        case 'stats':
          return 'stats'
        case 'error':
          return `error ${codeOf(event.error)}`
      }
    }
  }
}

function codeOf(error: unknown): string {
  return String((error as { code?: unknown }).code ?? (error as Error).message)
}

interface Harness {
  core: ProducerCore
  /** Moves both clocks on. */
  advance(ms: number): void
}

function harness(config: Partial<ProducerCoreConfig> = {}): Harness {
  let wall = T0
  let monotonic = 0
  const core = createProducerCore({
    fragmentTimecodeType: 'RELATIVE',
    producerStartTimestamp: T0,
    maxBytes: 1_000_000,
    maxDurationMs: 60_000,
    whenFull: 'block',
    ackStalenessMs: 1000,
    maxConnectionDurationMs: 60_000,
    retry: { initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: 5 },
    acknowledgeOn: 'PERSISTED',
    reconcile: { settleMs: 0 },
    trailer: TRAILER,
    onViolation: 'skip',
    clock: () => wall,
    now: () => monotonic,
    random: () => 0.5,
    ...config,
  })
  return {
    core,
    advance(ms) {
      wall += ms
      monotonic += ms
    },
  }
}

type Step = [input: (h: Harness) => ProducerCommand[], expected: string[]]

const endpoint = { endpoint: 'https://kvs.example', expiration: undefined }

/** The first session, opened and answered, with fragment 0 written and taken (the transport took it). */
const opened: Step[] = [
  [(h) => h.core.input([header(), fragment(0)]), ['state connecting 1 start', 'prepare 1']],
  [
    (h) => h.core.prepared(1, endpoint),
    ['open 1', 'timer rotation 60000', 'write 1 #0 130', 'timer silence 1000'],
  ],
  [(h) => h.core.responded(1), ['state streaming 1 start']],
  [(h) => h.core.written(1), ['timer received 1000']],
]

/** `opened`, then the connection drops before fragment 0 is acknowledged, and session 2 opens held. */
const droppedThenHeld: Step[] = [
  ...opened,
  [
    (h) => h.core.sessionEnded(1, reset),
    [
      'destroy 1',
      'cancel rotation',
      'cancel received',
      'cancel silence',
      'state reconnecting 1 failure',
      'timer retry 50',
    ],
  ],
  [(h) => h.core.timerFired('retry'), ['state connecting 2 retry', 'prepare 2']],
  [(h) => h.core.prepared(2, endpoint), ['open 2', 'timer rotation 60000', 'timer response 1000']],
]

/** Fragment 0's PERSISTED once the input has ended: session 1 ends, and the producer finishes with `finish`. */
function persistedThenFinish(finish: string): Step[] {
  return [
    [
      (h) => h.core.acks(1, [ack('PERSISTED', 0)]),
      [
        'ack PERSISTED 0',
        'acknowledged #0 PERSISTED sends 1',
        'cancel received',
        'cancel silence',
        'end 1',
        'timer drain 1000',
      ],
    ],
    [
      (h) => h.core.sessionEnded(1),
      ['destroy 1', 'cancel rotation', 'cancel drain', 'state closed - end', 'stats', finish],
    ],
  ]
}

/** `droppedThenHeld`, then session 2 is answered and fragment 0 is looked up with ListFragments. */
const heldAndLookingUp: Step[] = [
  ...droppedThenHeld,
  [(h) => h.core.responded(2), ['cancel response', 'list 2 0..0']],
]

interface Case {
  name: string
  config?: Partial<ProducerCoreConfig>
  steps: Step[]
  /** Checked after the last step. */
  after?: (h: Harness) => void
}

const cases: Case[] = [
  {
    name: 'a fragment goes out, is PERSISTED, and the producer finishes once the input ends',
    steps: [
      ...opened,
      [
        (h) => h.core.acks(1, [ack('BUFFERING', 0), ack('RECEIVED', 0)]),
        ['ack BUFFERING 0', 'ack RECEIVED 0'],
      ],
      [
        (h) => h.core.acks(1, [ack('PERSISTED', 0)]),
        ['ack PERSISTED 0', 'acknowledged #0 PERSISTED sends 1'],
      ],
      [(h) => h.core.endInput(), ['cancel received', 'cancel silence', 'end 1', 'timer drain 1000']],
      [
        (h) => h.core.sessionEnded(1),
        ['destroy 1', 'cancel rotation', 'cancel drain', 'state closed - end', 'stats', 'finish'],
      ],
    ],
    after: ({ core }) => {
      const stats = core.stats()
      expect(stats.fragments).toMatchObject({
        accepted: 1,
        sent: 1,
        resent: 0,
        persisted: 1,
        acknowledged: 1,
      })
      expect(stats.bytesSent).toBe(HEADER.byteLength + 130)
      expect(core.timers.size).toBe(0)
    },
  },
  {
    name: 'acknowledgeOn RECEIVED settles a fragment on RECEIVED; its PERSISTED still counts',
    config: { acknowledgeOn: 'RECEIVED' },
    steps: [
      ...opened,
      [(h) => h.core.acks(1, [ack('RECEIVED', 0)]), ['ack RECEIVED 0', 'acknowledged #0 RECEIVED sends 1']],
      [(h) => h.core.acks(1, [ack('PERSISTED', 0)]), ['ack PERSISTED 0']],
    ],
    after: ({ core }) =>
      expect(core.stats().fragments).toMatchObject({ received: 1, persisted: 1, acknowledged: 1 }),
  },
  {
    name: 'without DescribeStream known, the first session describes the stream; retention 0 settles on RECEIVED',
    config: { acknowledgeOn: undefined },
    steps: [
      [(h) => h.core.input([header(), fragment(0)]), ['state connecting 1 start', 'prepare 1 describe']],
      [
        (h) => h.core.prepared(1, { ...endpoint, stream: { retentionHours: 0, status: 'ACTIVE' } }),
        ['open 1', 'timer rotation 60000', 'write 1 #0 130', 'timer silence 1000'],
      ],
      [(h) => h.core.written(1), ['timer received 1000']],
      [(h) => h.core.acks(1, [ack('RECEIVED', 0)]), ['ack RECEIVED 0', 'acknowledged #0 RECEIVED sends 1']],
    ],
  },
  {
    name: 'a stream that is not ACTIVE fails the preparation (retried after a backoff)',
    config: { acknowledgeOn: undefined },
    steps: [
      [(h) => h.core.input([header(), fragment(0)]), ['state connecting 1 start', 'prepare 1 describe']],
      [
        (h) => h.core.prepared(1, { ...endpoint, stream: { retentionHours: 24, status: 'CREATING' } }),
        ['state reconnecting - failure', 'timer retry 50'],
      ],
      [(h) => h.core.timerFired('retry'), ['state connecting 2 retry', 'prepare 2 describe']],
    ],
  },
  {
    name: 'one write at a time: the next fragment waits until the transport took the previous one',
    steps: [
      [(h) => h.core.input([header(), fragment(0)]), ['state connecting 1 start', 'prepare 1']],
      [
        (h) => h.core.prepared(1, endpoint),
        ['open 1', 'timer rotation 60000', 'write 1 #0 130', 'timer silence 1000'],
      ],
      [(h) => h.core.input([fragment(1), fragment(2)]), []],
      [(h) => h.core.written(1), ['timer received 1000', 'write 1 #1 130']],
      [(h) => h.core.written(1), ['write 1 #2 130']],
      [(h) => h.core.written(1), []],
    ],
  },
  {
    name: 'without end-of-fragment tags the body ends right after the last write (the service completes the last fragment then)',
    config: { trailer: undefined },
    steps: [
      [(h) => h.core.input([header(), fragment(0)]), ['state connecting 1 start', 'prepare 1']],
      [
        (h) => h.core.prepared(1, endpoint),
        ['open 1', 'timer rotation 60000', 'write 1 #0 100', 'timer silence 1000'],
      ],
      [(h) => h.core.endInput(), []],
      [(h) => h.core.written(1), ['cancel silence', 'end 1', 'timer drain 1000']],
      [
        (h) => h.core.acks(1, [ack('PERSISTED', 0)]),
        ['ack PERSISTED 0', 'acknowledged #0 PERSISTED sends 1'],
      ],
      [
        (h) => h.core.sessionEnded(1),
        ['destroy 1', 'cancel rotation', 'cancel drain', 'state closed - end', 'stats', 'finish'],
      ],
    ],
  },
  {
    name: 'a dropped session: the next one is held until answered, ListFragments finds the fragment stored, nothing is resent',
    steps: [
      ...droppedThenHeld,
      [(h) => h.core.input([]), []],
      [(h) => h.core.responded(2), ['cancel response', 'list 2 0..0']],
      [
        (h) => h.core.listed(2, [T0]),
        ['acknowledged #0 LIST_FRAGMENTS sends 1', 'reconciliation 2 1/1', 'state streaming 2 retry'],
      ],
    ],
    after: ({ core }) =>
      expect(core.stats()).toMatchObject({
        reconnects: 1,
        sessions: 2,
        fragments: { reconciled: 1, resent: 0 },
      }),
  },
  {
    name: 'a fragment ListFragments does not list after a second look is resent',
    config: { reconcile: { settleMs: 500 } },
    steps: [
      ...heldAndLookingUp,
      [(h) => h.core.listed(2, []), ['timer settle 500']],
      [(h) => h.core.timerFired('settle'), ['list 2 0..0']],
      [
        (h) => h.core.listed(2, []),
        ['reconciliation 2 0/1', 'state streaming 2 retry', 'write 2 #0 130', 'timer silence 1000'],
      ],
    ],
    after: ({ core }) => expect(core.stats().fragments).toMatchObject({ sent: 1, resent: 1 }),
  },
  {
    name: 'a ListFragments call without an answer fails the held session: the fragment stays uncertain, the endpoint is asked again',
    steps: [
      ...heldAndLookingUp,
      [
        (h) => h.core.listFailed(2, reset),
        [
          'invalidate LIST_FRAGMENTS',
          'destroy 2',
          'cancel rotation',
          'state reconnecting 2 failure',
          'timer retry 100',
        ],
      ],
      [(h) => h.core.timerFired('retry'), ['state connecting 3 retry', 'prepare 3']],
      [(h) => h.core.prepared(3, endpoint), ['open 3', 'timer rotation 60000', 'timer response 1000']],
      [(h) => h.core.responded(3), ['cancel response', 'list 3 0..0']],
    ],
  },
  {
    name: 'a ListFragments refusal (not authorized) resends unchecked, each fragment reported as a possible duplicate',
    steps: [
      ...heldAndLookingUp,
      [
        (h) => h.core.listFailed(2, denied),
        [
          'reconciliation 2 0/1 refused',
          'possible-duplicate #0 reconciliation-refused',
          'state streaming 2 retry',
          'write 2 #0 130',
          'timer silence 1000',
        ],
      ],
    ],
  },
  {
    name: 'with reconciliation off the held session resends once answered, reporting possible duplicates',
    config: { reconcile: undefined },
    steps: [
      ...droppedThenHeld,
      [
        (h) => h.core.responded(2),
        [
          'cancel response',
          'possible-duplicate #0 reconciliation-off',
          'state streaming 2 retry',
          'write 2 #0 130',
          'timer silence 1000',
        ],
      ],
    ],
  },
  {
    name: 'a held session not answered in time fails (ERR_KVS_PRODUCER_TIMEOUT) and is retried',
    steps: [
      ...droppedThenHeld,
      [
        (h) => h.core.timerFired('response'),
        ['destroy 2', 'cancel rotation', 'state reconnecting 2 failure', 'timer retry 100'],
      ],
    ],
  },
  {
    name: 'a session that wrote and failed before the answer makes the next one be signed in a later second',
    steps: [
      [(h) => h.core.input([header(), fragment(0)]), ['state connecting 1 start', 'prepare 1']],
      [
        (h) => h.core.prepared(1, endpoint),
        ['open 1', 'timer rotation 60000', 'write 1 #0 130', 'timer silence 1000'],
      ],
      [
        (h) => h.core.sessionEnded(1, reset),
        ['destroy 1', 'cancel rotation', 'cancel silence', 'state reconnecting 1 failure', 'timer retry 50'],
      ],
      [
        (h) => {
          h.advance(50)
          return h.core.timerFired('retry')
        },
        ['state connecting 2 retry', 'prepare 2'],
      ],
      [(h) => h.core.prepared(2, endpoint), ['timer not-before 950']],
      [
        (h) => {
          h.advance(950)
          return h.core.timerFired('not-before')
        },
        ['open 2', 'timer rotation 60000', 'timer response 1000'],
      ],
    ],
  },
  {
    name: 'a retriable ERROR ack closes the session; the fragment is looked up before it is resent',
    steps: [
      ...opened,
      [
        (h) => h.core.acks(1, [ack('ERROR', 0, 4000)]),
        [
          'ack ERROR 0',
          'destroy 1',
          'cancel rotation',
          'cancel received',
          'cancel silence',
          'state reconnecting 1 failure',
          'timer retry 50',
        ],
      ],
      [(h) => h.core.timerFired('retry'), ['state connecting 2 retry', 'prepare 2']],
      [(h) => h.core.prepared(2, endpoint), ['open 2', 'timer rotation 60000', 'timer response 1000']],
    ],
  },
  {
    name: 'a non-retriable ERROR ack skips the fragment it names (not stored) and goes on with the next',
    steps: [
      ...opened,
      [(h) => h.core.input([fragment(1)]), ['write 1 #1 130']],
      [
        (h) => h.core.acks(1, [ack('ERROR', 0, 4002)]),
        [
          'ack ERROR 0',
          'destroy 1',
          'cancel rotation',
          'cancel received',
          'cancel silence',
          'skipped #0 error-ack not-stored',
          'state reconnecting 1 failure',
          'timer retry 50',
        ],
      ],
      [(h) => h.core.timerFired('retry'), ['state connecting 2 retry', 'prepare 2']],
    ],
    after: ({ core }) => expect(core.stats().fragments).toMatchObject({ skipped: 1, buffered: 1 }),
  },
  {
    name: 'an ERROR ack about the stream (4008) skips nothing',
    steps: [
      ...opened,
      [
        (h) => h.core.acks(1, [ack('ERROR', 0, 4008)]),
        [
          'ack ERROR 0',
          'destroy 1',
          'cancel rotation',
          'cancel received',
          'cancel silence',
          'state reconnecting 1 failure',
          'timer retry 50',
        ],
      ],
    ],
    after: ({ core }) => expect(core.stats().fragments).toMatchObject({ skipped: 0, buffered: 1 }),
  },
  {
    name: 'the RECEIVED watchdog follows the oldest written fragment and fails the session when it waited ackStalenessMs',
    steps: [
      ...opened,
      [(h) => h.core.input([fragment(1)]), ['write 1 #1 130']],
      [
        (h) => {
          h.advance(400)
          return h.core.written(1)
        },
        [],
      ],
      [
        (h) => {
          h.advance(200)
          return h.core.acks(1, [ack('RECEIVED', 0)])
        },
        ['ack RECEIVED 0'],
      ],
      [
        (h) => {
          h.advance(400)
          return h.core.timerFired('received')
        },
        ['timer received 400'],
      ],
      [
        (h) => {
          h.advance(400)
          return h.core.timerFired('received')
        },
        ['destroy 1', 'cancel rotation', 'cancel silence', 'state reconnecting 1 failure', 'timer retry 50'],
      ],
    ],
  },
  {
    name: 'a session silent while a RECEIVED fragment awaits PERSISTED fails after ackStalenessMs of silence (nothing left to send)',
    steps: [
      ...opened,
      [
        (h) => {
          h.advance(400)
          return h.core.acks(1, [ack('RECEIVED', 0)])
        },
        ['ack RECEIVED 0'],
      ],
      [(h) => h.core.endInput(), []],
      [
        (h) => {
          h.advance(600)
          return h.core.timerFired('received')
        },
        [],
      ],
      // The last response byte came at 400: 600 ms of silence so far, the timer is set for the rest.
      [(h) => h.core.timerFired('silence'), ['timer silence 400']],
      [
        (h) => {
          h.advance(400)
          return h.core.timerFired('silence')
        },
        ['destroy 1', 'cancel rotation', 'state reconnecting 1 failure', 'timer retry 50'],
      ],
    ],
    after: ({ core }) => expect(core.stats().fragments).toMatchObject({ received: 1, acknowledged: 0 }),
  },
  {
    name: 'a write the transport never takes (the far end stopped reading) fails the session after ackStalenessMs of silence',
    steps: [
      [(h) => h.core.input([header(), fragment(0)]), ['state connecting 1 start', 'prepare 1']],
      [
        (h) => h.core.prepared(1, endpoint),
        ['open 1', 'timer rotation 60000', 'write 1 #0 130', 'timer silence 1000'],
      ],
      [(h) => h.core.responded(1), ['state streaming 1 start']],
      [
        (h) => {
          h.advance(500)
          return h.core.acks(1, [])
        },
        [],
      ],
      [
        (h) => {
          h.advance(500)
          return h.core.timerFired('silence')
        },
        ['timer silence 500'],
      ],
      [
        (h) => {
          h.advance(500)
          return h.core.timerFired('silence')
        },
        ['destroy 1', 'cancel rotation', 'state reconnecting 1 failure', 'timer retry 50'],
      ],
    ],
  },
  {
    name: 'without end-of-fragment tags the newest fragment is not waited for: a pause in the input is not silence',
    config: { trailer: undefined },
    steps: [
      [(h) => h.core.input([header(), fragment(0)]), ['state connecting 1 start', 'prepare 1']],
      [
        (h) => h.core.prepared(1, endpoint),
        ['open 1', 'timer rotation 60000', 'write 1 #0 100', 'timer silence 1000'],
      ],
      [(h) => h.core.responded(1), ['state streaming 1 start']],
      [(h) => h.core.written(1), []],
      [
        (h) => {
          h.advance(5000)
          return h.core.timerFired('silence')
        },
        [],
      ],
      // Fragment 1 completes fragment 0 on the service: now fragment 0 is waited for.
      [(h) => h.core.input([fragment(1)]), ['write 1 #1 100', 'timer silence 1000']],
      [(h) => h.core.written(1), []],
      [
        (h) => {
          h.advance(1000)
          return h.core.timerFired('silence')
        },
        ['destroy 1', 'cancel rotation', 'state reconnecting 1 failure', 'timer retry 50'],
      ],
    ],
  },
  {
    name: 'maxConnectionDurationMs rotates the session at a fragment boundary; the next starts with the next fragment',
    steps: [
      ...opened,
      [
        (h) => h.core.acks(1, [ack('PERSISTED', 0)]),
        ['ack PERSISTED 0', 'acknowledged #0 PERSISTED sends 1'],
      ],
      [
        (h) => h.core.timerFired('rotation'),
        ['cancel received', 'cancel silence', 'end 1', 'timer drain 1000'],
      ],
      [(h) => h.core.sessionEnded(1), ['destroy 1', 'cancel drain', 'state idle 1 rotation']],
      [(h) => h.core.input([fragment(1)]), ['state connecting 2 rotation', 'prepare 2']],
    ],
    after: ({ core }) => expect(core.stats().rotations).toBe(1),
  },
  {
    name: 'credentials that expire rotate the session 3 s before (half their life when shorter)',
    steps: [
      [(h) => h.core.input([header(), fragment(0)]), ['state connecting 1 start', 'prepare 1']],
      [
        (h) => h.core.prepared(1, { endpoint: 'https://kvs.example', expiration: new Date(T0 + 10_000) }),
        ['open 1', 'timer rotation 60000', 'timer credentials 7000', 'write 1 #0 130', 'timer silence 1000'],
      ],
      [(h) => h.core.written(1), ['timer received 1000']],
      [
        (h) => h.core.acks(1, [ack('PERSISTED', 0)]),
        ['ack PERSISTED 0', 'acknowledged #0 PERSISTED sends 1'],
      ],
      [
        (h) => h.core.timerFired('credentials'),
        ['cancel received', 'cancel silence', 'end 1', 'timer drain 1000'],
      ],
      [
        (h) => h.core.sessionEnded(1),
        ['destroy 1', 'cancel rotation', 'cancel drain', 'state idle 1 credentials'],
      ],
      [(h) => h.core.input([fragment(1)]), ['state connecting 2 credentials', 'prepare 2']],
      [
        (h) => h.core.prepared(2, { endpoint: 'https://kvs.example', expiration: new Date(T0 + 4000) }),
        ['open 2', 'timer rotation 60000', 'timer credentials 2000', 'write 2 #1 130', 'timer silence 1000'],
      ],
    ],
  },
  {
    name: 'a response that does not end after the body is bounded: ERR_KVS_ACK_STALE, then the producer finishes (nothing at stake)',
    steps: [
      ...opened,
      [
        (h) => h.core.acks(1, [ack('PERSISTED', 0)]),
        ['ack PERSISTED 0', 'acknowledged #0 PERSISTED sends 1'],
      ],
      [(h) => h.core.endInput(), ['cancel received', 'cancel silence', 'end 1', 'timer drain 1000']],
      [
        (h) => h.core.timerFired('drain'),
        ['destroy 1', 'cancel rotation', 'state idle 1 resume', 'state closed - end', 'stats', 'finish'],
      ],
    ],
  },
  {
    name: "a new MKV header ends the session ('header'); the next session starts with the new header",
    steps: [
      [
        (h) => h.core.input([header(), fragment(0), header(HEADER_2), fragment(1)]),
        ['state connecting 1 start', 'prepare 1'],
      ],
      [
        (h) => h.core.prepared(1, endpoint),
        ['open 1', 'timer rotation 60000', 'write 1 #0 130', 'timer silence 1000'],
      ],
      [
        (h) => h.core.written(1),
        ['timer received 1000', 'cancel received', 'cancel silence', 'end 1', 'timer drain 1000'],
      ],
      [
        (h) => h.core.acks(1, [ack('PERSISTED', 0)]),
        ['ack PERSISTED 0', 'acknowledged #0 PERSISTED sends 1'],
      ],
      [
        (h) => h.core.sessionEnded(1),
        [
          'destroy 1',
          'cancel rotation',
          'cancel drain',
          'state idle 1 header',
          'state connecting 2 header',
          'prepare 2',
        ],
      ],
      [
        (h) => h.core.prepared(2, endpoint),
        ['open 2 header-2', 'timer rotation 60000', 'write 2 #1 130', 'timer silence 1000'],
      ],
    ],
  },
  {
    name: "whenFull 'block' holds the input while the buffer is full and releases it on an acknowledgement",
    config: { maxBytes: 150 },
    steps: [
      [(h) => h.core.input([header(), fragment(0)]), ['state connecting 1 start', 'prepare 1']],
      [(h) => h.core.input([fragment(1)]), []],
      [
        (h) => h.core.prepared(1, endpoint),
        ['open 1', 'timer rotation 60000', 'write 1 #0 130', 'timer silence 1000'],
      ],
      [(h) => h.core.written(1), ['timer received 1000', 'write 1 #1 130']],
      [
        (h) => h.core.acks(1, [ack('PERSISTED', 0)]),
        ['ack PERSISTED 0', 'acknowledged #0 PERSISTED sends 1', 'release-input'],
      ],
    ],
  },
  {
    name: "whenFull 'drop-oldest' drops the oldest fragment: not stored when never sent, fate unknown when sent",
    config: { maxBytes: 150, whenFull: 'drop-oldest' },
    steps: [
      [
        (h) => h.core.input([header(), fragment(0), fragment(1)]),
        ['skipped #0 buffer-full not-stored', 'state connecting 1 start', 'prepare 1'],
      ],
      [
        (h) => h.core.prepared(1, endpoint),
        ['open 1', 'timer rotation 60000', 'write 1 #1 130', 'timer silence 1000'],
      ],
      [(h) => h.core.input([fragment(2)]), ['skipped #1 buffer-full unknown']],
    ],
    after: ({ core }) => expect(core.stats().fragments).toMatchObject({ skipped: 2, fateUnknown: 1 }),
  },
  {
    name: 'retry.maxAttempts consecutive failures without an acknowledgement fail the producer',
    config: { retry: { initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: 2 } },
    steps: [
      [(h) => h.core.input([header(), fragment(0)]), ['state connecting 1 start', 'prepare 1']],
      [(h) => h.core.prepareFailed(1, reset), ['state reconnecting - failure', 'timer retry 50']],
      [(h) => h.core.timerFired('retry'), ['state connecting 2 retry', 'prepare 2']],
      [
        (h) => h.core.prepareFailed(2, reset),
        [
          'state closed - fatal',
          'error ERR_KVS_PRODUCER_TOO_MANY_FAILURES',
          'stats',
          'fail ERR_KVS_PRODUCER_TOO_MANY_FAILURES',
        ],
      ],
    ],
  },
  {
    name: 'a fatal failure (the stream does not exist) fails the producer at once',
    steps: [
      ...opened,
      [
        (h) => h.core.sessionEnded(1, notFound),
        [
          'destroy 1',
          'cancel rotation',
          'cancel received',
          'cancel silence',
          'state closed - fatal',
          'error ERR_KVS_PRODUCER_STREAM_NOT_FOUND',
          'stats',
          'fail ERR_KVS_PRODUCER_STREAM_NOT_FOUND',
        ],
      ],
      [(h) => h.core.input([fragment(1)]), []],
    ],
  },
  {
    name: 'an expired token asks the credentials anew for the next session',
    steps: [
      [(h) => h.core.input([header(), fragment(0)]), ['state connecting 1 start', 'prepare 1']],
      [
        (h) =>
          h.core.prepareFailed(
            1,
            new KvsHttpError('HTTP 403', { status: 403, errorType: 'ExpiredTokenException' }),
          ),
        ['refresh-credentials', 'state reconnecting - failure', 'timer retry 50'],
      ],
    ],
  },
  {
    name: 'the service ending the response while the producer sends is a failure (ERR_KVS_PRODUCER_SESSION_ENDED), retried',
    steps: [
      ...opened,
      [
        (h) => h.core.sessionEnded(1),
        [
          'destroy 1',
          'cancel rotation',
          'cancel received',
          'cancel silence',
          'state reconnecting 1 failure',
          'timer retry 50',
        ],
      ],
    ],
  },
  {
    name: 'a staleness timeout from the transport is retried like a dropped connection',
    steps: [
      ...opened,
      [
        (h) => h.core.sessionEnded(1, new KvsTimeoutError('ERR_KVS_ACK_STALE', 'stale', 1000)),
        [
          'destroy 1',
          'cancel rotation',
          'cancel received',
          'cancel silence',
          'state reconnecting 1 failure',
          'timer retry 50',
        ],
      ],
    ],
  },
  {
    name: "onViolation 'skip' skips a fragment the service would refuse, 'send' sends it",
    steps: [
      [
        (h) => h.core.input([header(), violation(0, 4002), fragment(0), fragment(1)]),
        ['violation 4002', 'skipped #0 violation not-stored', 'state connecting 1 start', 'prepare 1'],
      ],
      [
        (h) => h.core.prepared(1, endpoint),
        ['open 1', 'timer rotation 60000', 'write 1 #1 130', 'timer silence 1000'],
      ],
    ],
  },
  {
    name: "onViolation 'send' sends the fragment anyway",
    config: { onViolation: 'send' },
    steps: [
      [
        (h) => h.core.input([header(), violation(0, 4002), fragment(0)]),
        ['violation 4002', 'state connecting 1 start', 'prepare 1'],
      ],
      [
        (h) => h.core.prepared(1, endpoint),
        ['open 1', 'timer rotation 60000', 'write 1 #0 130', 'timer silence 1000'],
      ],
    ],
  },
  {
    name: "onViolation 'throw' ends the input with ERR_KVS_PRODUCER_VIOLATION; what was accepted is still delivered",
    config: { onViolation: 'throw' },
    steps: [
      [
        (h) => h.core.input([header(), fragment(0), violation(1, 4002), fragment(1)]),
        ['violation 4002', 'state connecting 1 start', 'prepare 1'],
      ],
      [
        (h) => h.core.prepared(1, endpoint),
        ['open 1', 'timer rotation 60000', 'write 1 #0 130', 'timer silence 1000'],
      ],
      [(h) => h.core.written(1), ['timer received 1000']],
      ...persistedThenFinish('finish ERR_KVS_PRODUCER_VIOLATION'),
    ],
    after: ({ core }) => expect(core.inputError?.message).toContain('violation 1'),
  },
  {
    name: "fragmentTimecodeType 'ABSOLUTE' with timecodes that are not wall-clock times ends the input with the fix",
    config: { fragmentTimecodeType: 'ABSOLUTE' },
    steps: [
      [
        (h) => h.core.input([header(), fragment(0)]),
        ['state closed - end', 'stats', 'finish ERR_KVS_PRODUCER_TIMESTAMP_OUT_OF_RANGE'],
      ],
    ],
  },
  {
    name: 'a request putMedia refuses to start undoes the session and is classified (a TypeError is fatal)',
    steps: [
      [(h) => h.core.input([header(), fragment(0)]), ['state connecting 1 start', 'prepare 1']],
      [
        (h) => h.core.prepared(1, endpoint),
        ['open 1', 'timer rotation 60000', 'write 1 #0 130', 'timer silence 1000'],
      ],
      [
        (h) => h.core.openFailed(1, new TypeError('endpoint must be a URL')),
        [
          'cancel rotation',
          'cancel silence',
          'state closed - fatal',
          'error ERR_KVS_PRODUCER_REQUEST_REJECTED',
          'stats',
          'fail ERR_KVS_PRODUCER_REQUEST_REJECTED',
        ],
      ],
    ],
    after: ({ core }) =>
      expect(core.stats()).toMatchObject({ sessions: 0, bytesSent: 0, fragments: { sent: 0, buffered: 1 } }),
  },
  {
    name: 'fail() (abort) stops everything: timers cancelled, the session destroyed, one error',
    steps: [
      ...opened,
      [
        (h) => h.core.fail(new ProducerError('ERR_KVS_PRODUCER_ABORTED', 'aborted')),
        [
          'cancel rotation',
          'cancel silence',
          'cancel received',
          'destroy 1',
          'state closed - aborted',
          'error ERR_KVS_PRODUCER_ABORTED',
          'stats',
          'fail ERR_KVS_PRODUCER_ABORTED',
        ],
      ],
      [(h) => h.core.fail(new Error('again')), []],
      [(h) => h.core.acks(1, [ack('PERSISTED', 0)]), []],
    ],
  },
  {
    name: 'answers about another session, and timers that were not set, change nothing',
    steps: [
      ...opened,
      [(h) => h.core.acks(7, [ack('PERSISTED', 0)]), []],
      [(h) => h.core.responded(9), []],
      [(h) => h.core.written(9), []],
      [(h) => h.core.sessionEnded(9, reset), []],
      [(h) => h.core.listed(1, [T0]), []],
      [(h) => h.core.prepared(1, endpoint), []],
      [(h) => h.core.timerFired('retry'), []],
      [(h) => h.core.timerFired('settle'), []],
    ],
  },
  {
    name: 'an input that ends with nothing accepted finishes at once; later input is ignored',
    steps: [
      [(h) => h.core.endInput(), ['state closed - end', 'stats', 'finish']],
      [(h) => h.core.input([header(), fragment(0)]), []],
    ],
  },
  {
    name: 'a destroyed writable ends the input with its error; accepted fragments are still delivered',
    steps: [
      ...opened,
      [(h) => h.core.inputDestroyed(new Error('source failed')), []],
      ...persistedThenFinish('finish source failed'),
    ],
  },
]

function violation(fragmentIndex: number, errorId: number): ViolationEvent {
  return {
    type: 'violation',
    violation: {
      kind: 'duration-too-long',
      message: `violation ${fragmentIndex}`,
      fragmentIndex,
      errorId,
      offset: 0,
    },
  }
}

describe('the producer core, transition by transition', () => {
  it.each(cases)('$name', ({ config, steps, after }) => {
    const h = harness(config)
    steps.forEach(([input, expected], index) => {
      const got = input(h).map(line)
      expect(got, `step ${index + 1}`).toEqual(expected)
    })
    after?.(h)
  })

  it('holds nothing of an acknowledged fragment while its session stays open and its deadlines have not looked', async () => {
    const gc = exposeGc()
    const h = harness()
    let first: WeakRef<object> | undefined
    const steps: ((h: Harness) => ProducerCommand[])[] = [
      (h) => h.core.input([header(), fragment(0)]),
      (h) => h.core.prepared(1, endpoint),
      (h) => h.core.responded(1),
      (h) => h.core.written(1),
      (h) => h.core.input([fragment(1)]),
      (h) => h.core.written(1),
      (h) => h.core.acks(1, [ack('RECEIVED', 0), ack('PERSISTED', 0), ack('RECEIVED', 1)]),
    ]
    for (const step of steps) {
      for (const command of step(h)) {
        if (command.type === 'write' && command.fragment.index === 0) first = new WeakRef(command.fragment)
      }
    }
    expect(first).toBeDefined()
    // Fragment 1 is in flight and the RECEIVED / silence timers (1 s) have not fired: before the watches were
    // pruned as acks came, they held every fragment written until then.
    await new Promise((resolve) => setImmediate(resolve))
    gc()
    expect(first?.deref()).toBeUndefined()
    expect(h.core.stats().fragments.persisted).toBe(1)
  })

  it('acknowledging on RECEIVED, keeps at most 256 fragments for a PERSISTED that a stream without retention never sends', async () => {
    const gc = exposeGc()
    const h = harness({ acknowledgeOn: 'RECEIVED' })
    let first: WeakRef<object> | undefined
    const track = (commands: ProducerCommand[]): void => {
      for (const command of commands) {
        if (command.type === 'write' && command.fragment.index === 0) first = new WeakRef(command.fragment)
      }
    }
    track(h.core.input([header(), fragment(0)]))
    track(h.core.prepared(1, endpoint))
    h.core.responded(1)
    for (let index = 0; index < 300; index++) {
      if (index > 0) {
        h.advance(1000) // live: a fragment a second (one from the future would be refused)
        track(h.core.input([fragment(index)]))
      }
      h.core.written(1)
      h.core.acks(1, [ack('RECEIVED', index)])
    }
    expect(h.core.stats().fragments.acknowledged).toBe(300)
    await new Promise((resolve) => setImmediate(resolve))
    gc()
    // 300 fragments acknowledged in one open session, none PERSISTED: the first is no longer held.
    expect(first?.deref()).toBeUndefined()
    // A late PERSISTED still counts for the ones kept; the first one's goes uncounted.
    h.core.acks(1, [ack('PERSISTED', 0), ack('PERSISTED', 299)])
    expect(h.core.stats().fragments.persisted).toBe(1)
  })

  it('runs a thousand fragments through sessions that drop at random with none lost and none settled twice', () => {
    // A deterministic soak: the same transitions as above, many times, with the core's own answers.
    let seed = 7
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed / 2_147_483_648
    }
    const h = harness({ random, retry: { initialDelayMs: 10, maxDelayMs: 100, maxAttempts: 1_000 } })
    const stored = new Set<number>()
    const settled = new Map<number, number>()
    const timers = new Set<string>()
    let session: number | undefined
    let writes: number[] = []
    let duplicates = 0
    const queue: ProducerCommand[] = []
    const run = (commands: ProducerCommand[]): void => {
      queue.push(...commands)
    }
    const drain = (): void => {
      while (queue.length > 0) {
        const command = queue.shift()!
        switch (command.type) {
          case 'prepare':
            run(h.core.prepared(command.sessionId, endpoint))
            break
          case 'open-session':
            session = command.sessionId
            writes = []
            run(h.core.responded(command.sessionId))
            break
          case 'write':
            // Exactly once: a fragment the service stored is never written again.
            if (stored.has(command.fragment.index)) duplicates++
            writes.push(command.fragment.index)
            run(h.core.written(command.sessionId))
            break
          case 'end-session':
            run(h.core.sessionEnded(command.sessionId))
            break
          case 'destroy-session':
            if (session === command.sessionId) session = undefined
            break
          case 'set-timer':
            timers.add(command.timer)
            break
          case 'cancel-timer':
            timers.delete(command.timer)
            break
          case 'list-fragments':
            run(
              h.core.listed(
                command.sessionId,
                [...stored].map((index) => T0 + index * 1000),
              ),
            )
            break
          case 'emit':
            if (command.event.type === 'fragment-acknowledged') {
              const { index } = command.event.fragment
              settled.set(index, (settled.get(index) ?? 0) + 1)
            }
            break
          default:
            break
        }
      }
    }
    run(h.core.input([header()]))
    for (let index = 0; index < 1000; index++) {
      run(h.core.input([fragment(index)]))
      drain()
      // The service stores what was written; the session drops now and then before acknowledging it.
      if (session !== undefined && random() < 0.1) {
        for (const written of writes) if (random() < 0.5) stored.add(written)
        run(h.core.sessionEnded(session, reset))
      } else if (session !== undefined) {
        const acks = writes.map((written) => {
          stored.add(written)
          return ack('PERSISTED', written)
        })
        writes = []
        run(h.core.acks(session, acks))
      }
      drain()
      for (const timer of [...timers]) {
        if (timer === 'retry' || timer === 'not-before') {
          h.advance(1000)
          run(h.core.timerFired(timer))
          drain()
        }
      }
    }
    // The last fragments: acknowledge what is written until everything is settled.
    run(h.core.endInput())
    for (let round = 0; round < 100 && !h.core.stopped; round++) {
      drain()
      if (session !== undefined && writes.length > 0) {
        const acks = writes.map((written) => {
          stored.add(written)
          return ack('PERSISTED', written)
        })
        writes = []
        run(h.core.acks(session, acks))
      }
      for (const timer of [...timers]) {
        if (timer === 'retry' || timer === 'not-before') {
          h.advance(1000)
          run(h.core.timerFired(timer))
        }
      }
      drain()
    }
    expect(h.core.stopped).toBe(true)
    expect(h.core.fatal).toBeUndefined()
    expect(duplicates).toBe(0)
    expect(settled.size).toBe(1000)
    expect([...settled.values()].every((count) => count === 1)).toBe(true)
    const stats = h.core.stats()
    expect(stats.fragments).toMatchObject({ accepted: 1000, acknowledged: 1000, buffered: 0, skipped: 0 })
    expect(stats.fragments.reconciled).toBeGreaterThan(0)
  })
})
