import { existsSync } from 'node:fs'
import { fixturePath } from '@kvs-streams/test-utils'

/**
 * What each fixture holds, checked independently with `mkvinfo -v` (mkvtoolnix v74) and, for the number of
 * EBML documents, with test-utils' `splitEbmlDocuments`. See fixtures/SOURCES.md and
 * fixtures/generated/EXPECTED.md.
 */
export interface FixtureFacts {
  /** Path parts under fixtures/. */
  path: [folder: string, file: string]
  documents: number
  /** Whether every Segment has the unknown size. */
  unknownSizeSegments: boolean
  clusters: number
  /** Clusters with the unknown size. */
  unknownSizeClusters: number
  simpleBlocks: number
  blockGroups: number
  /** Level-1 Tags elements (several per document in GetMedia output). */
  tags: number
  /** Whether the Segment's size is known, so ts-ebml and ebml-stream read the file correctly. */
  knownSizes: boolean
}

const all: FixtureFacts[] = [
  {
    path: ['kvs-getmedia', 'clusters.mkv'],
    documents: 1,
    unknownSizeSegments: true,
    clusters: 8,
    unknownSizeClusters: 0,
    simpleBlocks: 444,
    blockGroups: 0,
    tags: 1,
    knownSizes: false,
  },
  {
    path: ['kvs-getmedia', 'test_mixed_tags.mkv'],
    documents: 10,
    unknownSizeSegments: true,
    clusters: 10,
    unknownSizeClusters: 10,
    simpleBlocks: 100,
    blockGroups: 0,
    tags: 75,
    knownSizes: false,
  },
  {
    path: ['kvs-getmedia', 'output_get_media.mkv'],
    documents: 5,
    unknownSizeSegments: true,
    clusters: 5,
    unknownSizeClusters: 0,
    simpleBlocks: 300,
    blockGroups: 0,
    tags: 15,
    knownSizes: false,
  },
  {
    path: ['kvs-getmedia', 'kinesis_video_renderer_example_output.mkv'],
    documents: 8,
    unknownSizeSegments: true,
    clusters: 8,
    unknownSizeClusters: 0,
    simpleBlocks: 444,
    blockGroups: 0,
    tags: 16,
    knownSizes: false,
  },
  {
    path: ['kvs-getmedia', 'vogels_330.mkv'],
    documents: 1,
    unknownSizeSegments: false,
    clusters: 9,
    unknownSizeClusters: 0,
    simpleBlocks: 2334,
    blockGroups: 0,
    tags: 1,
    knownSizes: true,
  },
  {
    path: ['kvs-getmedia', 'empty-mkv-with-tags.mkv'],
    documents: 1,
    unknownSizeSegments: true,
    clusters: 0,
    unknownSizeClusters: 0,
    simpleBlocks: 0,
    blockGroups: 0,
    tags: 1,
    knownSizes: false,
  },
  {
    path: ['kvs-getmedia', 'test_tags_empty_cluster.mkv'],
    documents: 1,
    unknownSizeSegments: true,
    clusters: 0,
    unknownSizeClusters: 0,
    simpleBlocks: 0,
    blockGroups: 0,
    tags: 5,
    knownSizes: false,
  },
  {
    path: ['webm', '5s.webm'],
    documents: 1,
    unknownSizeSegments: false,
    clusters: 2,
    unknownSizeClusters: 0,
    simpleBlocks: 400,
    blockGroups: 1,
    tags: 1,
    knownSizes: true,
  },
  {
    path: ['generated', 'ffmpeg-h264-aac.mkv'],
    documents: 1,
    unknownSizeSegments: false,
    clusters: 4,
    unknownSizeClusters: 0,
    simpleBlocks: 289,
    blockGroups: 0,
    tags: 1,
    knownSizes: true,
  },
  {
    path: ['generated', 'gst-streamable.mkv'],
    documents: 1,
    unknownSizeSegments: true,
    clusters: 4,
    unknownSizeClusters: 4,
    simpleBlocks: 288,
    blockGroups: 0,
    tags: 1,
    knownSizes: false,
  },
  {
    path: ['generated', 'h264-only.mkv'],
    documents: 1,
    unknownSizeSegments: false,
    clusters: 3,
    unknownSizeClusters: 0,
    simpleBlocks: 75,
    blockGroups: 0,
    tags: 1,
    knownSizes: true,
  },
  {
    path: ['generated', 'mkvmerge-blockgroups.mkv'],
    documents: 1,
    unknownSizeSegments: false,
    clusters: 4,
    unknownSizeClusters: 0,
    simpleBlocks: 0,
    blockGroups: 124,
    tags: 1,
    knownSizes: true,
  },
]

/**
 * The fixtures present: fixtures/generated/ is produced by its own make.sh and may be absent from a
 * checkout; every other fixture must exist (a missing one fails the tests that read it).
 */
export const fixtures: readonly FixtureFacts[] = all.filter(
  (facts) => facts.path[0] !== 'generated' || existsSync(fixturePath(...facts.path)),
)

export const fixtureName = (facts: FixtureFacts): string => facts.path.join('/')
