import { describeAckError } from '@kvs-streams/acks'

/**
 * What to do about an ERROR acknowledgement, by `ErrorId`: the advice `kvs put` prints under the meaning
 * `describeAckError()` gives. Ids not listed get generic advice from their retry class.
 */
export const ACK_ADVICE: ReadonlyMap<number, readonly string[]> = new Map<number, readonly string[]>([
  [
    4001,
    [
      'A fragment (one Matroska Cluster) is larger than 50 MB. Start clusters more often:',
      'key frames every 1-2 s (ffmpeg -g 50 -keyint_min 50 at 25 fps, or -force_key_frames "expr:gte(t,n_forced*2)"),',
      'and with ffmpeg -f matroska add -cluster_size_limit 5000000 -cluster_time_limit 2000; or lower the bitrate.',
    ],
  ],
  [
    4002,
    [
      'A fragment (one Matroska Cluster) lasts more than 10 s. Clusters start at key frames, so encode with',
      'a key frame every 1-2 s (ffmpeg -g 50 -keyint_min 50 at 25 fps, or -force_key_frames "expr:gte(t,n_forced*2)")',
      'and, with ffmpeg -f matroska, -cluster_time_limit 2000.',
    ],
  ],
  [
    4004,
    [
      "A fragment starts before the previous fragment's last frame: B-frames (stored ahead of their display time),",
      'or audio written ahead of the key frame that starts a cluster. Re-encode the video without B-frames, with a',
      'key frame every 2 s that each cluster starts on (here at 25 fps):',
      '  ffmpeg -i <input> -c:v libx264 -bf 0 -g 50 -keyint_min 50 -c:a copy -f matroska -cluster_time_limit 2000 -',
      'Timestamps that jump back (a restarted source) need a new kvs put; concatenated files, one kvs put each.',
    ],
  ],
  [
    4006,
    [
      'The service could not parse the input as Matroska. Send MKV (ffmpeg ... -f matroska -, mkvmerge,',
      'GStreamer matroskamux streamable=true), not MP4, MPEG-TS or raw H.264; one file per kvs put (one Segment',
      'per session); H.264 needs its CodecPrivate (avcC), which ffmpeg -c:v libx264 -f matroska writes. Check the',
      'file with ffprobe or mkvinfo.',
    ],
  ],
  [
    4010,
    [
      "A frame belongs to a track that the input's Tracks header does not declare: the header and the clusters",
      'come from different files or muxers. Remux into one file first: ffmpeg -i in -c copy -f matroska out.mkv',
    ],
  ],
  [
    4011,
    [
      'Every declared track needs a frame in every fragment, and one track had none (often audio that starts late',
      'or pauses, or a subtitle/data track). Keep only the tracks you need (ffmpeg -map 0:v:0 -an -sn -dn), or make',
      'sure each track is interleaved into every cluster.',
    ],
  ],
  [4003, ['The connection reached its maximum duration (about 45 minutes); run kvs put again to continue.']],
  [
    4007,
    [
      'The producer timestamp is invalid, usually too far in the future: check the system clock (timedatectl),',
      'and with --timecode-type absolute, that cluster timecodes are epoch milliseconds.',
    ],
  ],
  [
    4008,
    [
      'The stream is not ACTIVE: it was just created (wait a few seconds; kvs put --create waits for ACTIVE) or',
      'it has been deleted (kvs streams describe <stream>).',
    ],
  ],
  [
    4009,
    [
      'Over 10 metadata tags in a fragment, a tag name over 128 or a value over 256 bytes, or a name starting with',
      "AWS, which is reserved: the output of GetMedia (kvs get) carries the service's AWS_KINESISVIDEO_* tags, which",
      'kvs put drops unless --keep-service-tags is given. Otherwise drop or shorten the MKV Tags.',
    ],
  ],
  [4012, ['KVS takes at most 3 tracks: keep the ones you need (ffmpeg -map 0:v:0 -map 0:a:0).']],
  [
    5000,
    [
      'An internal service error: run the command again; if it persists, note the request id for AWS Support.',
    ],
  ],
  [5001, ['The service could not persist the fragments: run the command again.']],
])

const KMS_ADVICE = [
  "The stream's KMS key is not usable: check that the key exists and is enabled, and that your identity may use it",
  '(kms:GenerateDataKey, kms:Decrypt) — kvs streams describe <stream> shows KmsKeyId.',
]

/** Meaning and advice for an ERROR acknowledgement's `ErrorId`. */
export function adviseAckError(errorId: number): {
  errorCode: string
  meaning: string
  retriable: boolean
  advice: readonly string[]
} {
  const info = describeAckError(errorId)
  const advice =
    ACK_ADVICE.get(errorId) ??
    (errorId >= 4500 && errorId <= 4506
      ? KMS_ADVICE
      : info.retriable
        ? ['The service marks this error as transient: run the command again.']
        : ['Sending the same bytes again would fail the same way: fix the input first.'])
  return { errorCode: info.errorCode, meaning: info.description, retriable: info.retriable, advice }
}
