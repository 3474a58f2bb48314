/** The `kvs` commands and options as data: parsing and `--help` both read them. */

export interface OptionSpec {
  /** Long name without dashes: `retention-hours`. */
  name: string
  short?: string
  type: 'string' | 'boolean'
  /** Placeholder of the value in help: `<hours>`. */
  value?: string
  /** The option may be given more than once (its value is then a list). */
  multiple?: boolean
  description: string
}

export interface PositionalSpec {
  /** As shown in usage: `<stream>`, `[file|-]`. */
  name: string
  description: string
}

export interface CommandSpec {
  /** `put`, `streams create`, … */
  name: string
  summary: string
  /** Other forms of the command, printed under the usage line: `kvs put --many <list> [options]`. */
  otherUsage?: readonly string[]
  /** Paragraphs after the usage line. */
  description: readonly string[]
  positionals: readonly PositionalSpec[]
  options: readonly OptionSpec[]
  examples: readonly string[]
  /** Extra sections printed after the options (e.g. output formats), as `[title, lines]`. */
  sections?: readonly (readonly [string, readonly string[]])[]
  /** Whether the command talks to AWS (prints the AWS environment variables in help). */
  aws: boolean
}

export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'region',
    type: 'string',
    value: '<region>',
    description: 'AWS region, e.g. us-west-2 (else AWS_REGION, AWS_DEFAULT_REGION, the profile)',
  },
  {
    name: 'profile',
    type: 'string',
    value: '<name>',
    description: 'profile from ~/.aws/config and ~/.aws/credentials (else AWS_PROFILE)',
  },
  {
    name: 'endpoint-url',
    type: 'string',
    value: '<url>',
    description: 'control-plane endpoint, e.g. the emulator: http://127.0.0.1:4567 (else AWS_ENDPOINT_URL)',
  },
  { name: 'json', type: 'boolean', description: 'machine-readable output: one JSON object per line' },
  {
    name: 'debug',
    type: 'boolean',
    description: 'log how region, endpoint and credentials were found; print errors with their causes',
  },
  { name: 'no-color', type: 'boolean', description: 'no colours (also NO_COLOR=1)' },
  { name: 'help', short: 'h', type: 'boolean', description: 'show help' },
  { name: 'version', type: 'boolean', description: 'print the version of kvs' },
]

export const ENVIRONMENT: readonly (readonly [string, string])[] = [
  ['AWS_REGION, AWS_DEFAULT_REGION', 'region, when --region is not given'],
  ['AWS_PROFILE', 'profile, when --profile is not given'],
  ['AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY', 'access key pair (first in the default credential chain)'],
  ['AWS_SESSION_TOKEN', 'session token of temporary credentials'],
  ['AWS_ENDPOINT_URL_KINESIS_VIDEO, AWS_ENDPOINT_URL', 'endpoint, when --endpoint-url is not given'],
  [
    'AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE',
    'config and credentials files (default ~/.aws/config, ~/.aws/credentials)',
  ],
  ['NO_COLOR', 'set to disable colours'],
]

export const EXIT_STATUS: readonly (readonly [string, string])[] = [
  ['0', 'success (kvs get stopped by Ctrl-C or --until included)'],
  [
    '1',
    'media rejected: an ERROR acknowledgement, input that breaks a KVS rule, is not MKV, is empty or cut short',
  ],
  ['75', 'kvs get gave up: GetMedia kept failing for --retry-for (the output ends on a whole fragment)'],
  ['130', 'kvs put interrupted (Ctrl-C) before its input ended'],
  ['252', 'usage error: unknown command or option, bad argument'],
  ['253', 'configuration error: no region, no credentials, unknown profile'],
  ['254', 'the service returned an error (stream not found, not authorized, …)'],
  ['255', 'anything else: connection refused, timeout, file error'],
]

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'put',
    summary: 'put video (MKV, raw H.264/H.265, AAC) from a file or stdin into a stream (PutMedia)',
    description: [
      'Sends video to a stream with PutMedia through a resilient producer: Matroska (MKV/WebM) repackaged so',
      'that KVS takes every fragment, or raw H.264/H.265 (Annex B) and ADTS AAC muxed into Matroska; each',
      'fragment checked against the KVS rules before it is sent, resent after connection failures until the',
      'service acknowledges it. Reads stdin when the file is - or missing, so encoders can pipe into it.',
      'On a terminal it shows progress (bytes sent, fragments buffered/received/persisted, rate, ack latency);',
      'otherwise, or with --json, it prints one JSON object per event on stdout. A FIFO (mkfifo) an encoder',
      'writes to is read as a live source, like stdin. With --many it puts every stream of a list at once.',
    ],
    otherUsage: ['kvs put --many <list> [options]'],
    positionals: [
      { name: '<stream>', description: 'stream name' },
      { name: '[file|-]', description: 'file to send (MKV, H.264, H.265, AAC); - or nothing: read stdin' },
    ],
    options: [
      {
        name: 'many',
        type: 'string',
        value: '<list>',
        description:
          'put every stream of a list file, one "<stream> <file|fifo>" per line (see Many streams below)',
      },
      {
        name: 'create',
        type: 'boolean',
        description: 'create the stream when it does not exist (and wait until it is ACTIVE)',
      },
      {
        name: 'retention-hours',
        type: 'string',
        value: '<hours>',
        description: 'with --create: data retention (default 24; 0 keeps nothing)',
      },
      {
        name: 'media-type',
        type: 'string',
        value: '<type>',
        description: 'with --create: media type (default video/h264)',
      },
      {
        name: 'timecode-type',
        type: 'string',
        value: '<type>',
        description:
          'relative (default: cluster timecodes count from the producer start) or absolute (epoch ms)',
      },
      {
        name: 'producer-start',
        type: 'string',
        value: '<time>',
        description:
          'start time of relative timecodes: now, ISO 8601, epoch seconds, -<duration> (default: a file ends now, stdin starts now)',
      },
      {
        name: 'format',
        type: 'string',
        value: '<format>',
        description: 'mkv, h264, h265 (raw Annex B video) or aac (ADTS); default: told from the first bytes',
      },
      {
        name: 'fps',
        type: 'string',
        value: '<rate>',
        description: 'frames per second of raw H.264/H.265 (default: the stream timing information, else 25)',
      },
      {
        name: 'no-repackage',
        type: 'boolean',
        description:
          'send MKV as it is (by default clusters are recut at key frames and frames moved where KVS wants them)',
      },
      {
        name: 'tag',
        type: 'string',
        value: '<name=value>',
        multiple: true,
        description:
          'fragment metadata on every fragment (repeatable, at most 10; names must not start with AWS)',
      },
      {
        name: 'keep-service-tags',
        type: 'boolean',
        description:
          'send the AWS_KINESISVIDEO_* tags of kvs get output too (dropped by default: PutMedia refuses them, 4009)',
      },
      {
        name: 'quiet',
        short: 'q',
        type: 'boolean',
        description:
          'no progress display and no event JSON lines (without --json): only errors and the summary',
      },
    ],
    sections: [
      [
        'Input',
        [
          'The format is told from the first bytes (or --format). KVS wants each fragment to start with a key',
          'frame, last at most 10 s and hold only frames after the previous one: MKV is repackaged to that (new',
          'fragments at key frames about every 2 s, frames moved to the fragment their time belongs to), said',
          'once when it changes anything; --no-repackage sends the Clusters as they are. Raw video gets its',
          'timestamps from --fps (or the stream timing information); MP4 and TS need ffmpeg -f matroska first.',
          'KVS refuses producer timestamps in the future: a file is dated so that its last frame ends now (it',
          'can then be sent as fast as the network allows); stdin, a live source, starts now.',
        ],
      ],
      [
        'JSON output (--json, or stdout not a terminal)',
        [
          '{"type":"state","state":"streaming",...}      producer state changes',
          '{"type":"ack","eventType":"PERSISTED","fragmentNumber":"9134…","fragmentTimecode":1999,...}',
          '{"type":"fragment-acknowledged","index":1,"fragmentNumber":"9134…","latencyMs":85,...}',
          '{"type":"fragment-skipped","index":3,"errorId":4002,"errorCode":"MAX_FRAGMENT_DURATION_REACHED",...}',
          '{"type":"stats","bytesSent":…,"fragments":{…},"ackLatencyMs":{…}}   every second and at the end',
          '{"type":"summary","ok":true,"fragments":8,"persisted":8,...}   last line',
        ],
      ],
      [
        'Many streams (--many <list>)',
        [
          'One producer per line of the list, all in one process sharing one control-plane client: a gateway',
          'feeding many cameras, each through a FIFO its encoder writes to, or a folder of recordings. A line is',
          '"<stream> <file|fifo>" or a JSON object {"stream":…,"file":…,"format":…,"fps":…,"tags":{…}}; # starts',
          'a comment, relative paths are from the folder of the list. The other options apply to every stream',
          "(a line's tags are added to --tag's). A FIFO is waited for until its encoder writes, and its stream",
          'ends when the encoder closes it. A stream that fails (a missing file, input that is not media, an ERROR',
          'ack, a stream that does not exist without --create) does not stop the others; the errors are printed',
          'at the end, naming the stream and its line. Ctrl-C stops every stream as kvs put alone does.',
          'On a terminal one status block counts the streams (starting, streaming, reconnecting, done, failed)',
          "with the fleet's bytes, fragments and ack latency, redrawn every second. JSON output:",
          '{"type":"ack","stream":"cam-1",...}      every event of kvs put, with the stream it belongs to',
          '{"type":"fleet-stats","streams":{"total":5,"streaming":4,...},"bytesPerSecond":…,"ackLatencyMs":{…}}',
          '{"type":"stream-summary","stream":"cam-2","ok":false,"exitCode":255,"error":{…},...}   as each ends',
          '{"type":"summary","ok":false,"exitCode":255,"streams":{…},"results":[…],...}   last line',
          "Exit status: the worst of the streams': a failure (the highest status) before 130 (Ctrl-C) before 0.",
          'Each stream holds a socket and an open file: ulimit -n must be above twice the number of streams.',
        ],
      ],
    ],
    examples: [
      '# a camera or encoder giving raw H.264',
      'ffmpeg -re -i rtsp://camera/stream -c copy -f h264 - | kvs put my-stream -',
      '# an MP4 recording, remuxed without re-encoding (repackaged for KVS on the way)',
      'ffmpeg -i cam.mp4 -c copy -f matroska - | kvs put my-stream -',
      'kvs put my-stream video.mkv --create --tag camera=front-door',
      '# a live test pattern: a key frame every second, one cluster per key frame',
      'ffmpeg -re -f lavfi -i testsrc2=size=640x360:rate=25 -c:v libx264 -g 25 -keyint_min 25 -bf 0 \\',
      '    -cluster_size_limit 2M -cluster_time_limit 1000 -f matroska - | kvs put my-stream -',
      'ffmpeg -i input.mp4 -c copy -cluster_size_limit 2M -f matroska - | kvs put my-stream --json > acks.jsonl',
      'kvs put demo clip.mkv --endpoint-url http://127.0.0.1:4567 --region us-east-1 --create',
      '# a gateway: one FIFO per camera, fed by ffmpeg, and one "<stream> <fifo>" line each in cameras.txt',
      'mkfifo cam-1.mkv && ffmpeg -rtsp_transport tcp -i rtsp://cam-1/stream -c copy -f matroska cam-1.mkv &',
      'echo "cam-1 cam-1.mkv" >> cameras.txt',
      'kvs put --many cameras.txt --create --tag site=lab',
    ],
    aws: true,
  },
  {
    name: 'get',
    summary: 'read a stream with GetMedia and write its fragments as MKV',
    description: [
      'Reads a stream with GetMedia from --start and writes every fragment, as the service sends it, to the',
      'output: each fragment is a self-contained MKV document, and the concatenation plays in ffmpeg, ffprobe',
      'and mpv. Follows the live stream until Ctrl-C (the file is left complete, ending on a whole fragment) or',
      'until --until is reached. Prints one line per fragment on stderr (a JSON object with --json).',
      'When the service ends a response that has caught up (no new fragment for a few seconds), kvs get asks',
      'again from the last fragment written, silently; once an --until time has passed, that ends kvs get.',
      'A dropped connection is resumed after the last fragment written; when connections keep failing for',
      '--retry-for, kvs get stops (exit status 75), the output still ending on a whole fragment, and prints',
      'the --start to resume with.',
    ],
    positionals: [{ name: '<stream>', description: 'stream name' }],
    options: [
      {
        name: 'start',
        type: 'string',
        value: '<where>',
        description:
          'now (default), earliest, a fragment number (resumes after it), an ISO 8601 time, epoch seconds, or -30s/-5m/-1h ago',
      },
      {
        name: 'until',
        type: 'string',
        value: '<when>',
        description:
          'stop after this many fragments (e.g. 10), or at the first fragment at or after a time (ISO, epoch seconds, -5m, now)',
      },
      {
        name: 'out',
        short: 'o',
        type: 'string',
        value: '<file|->',
        description: 'where to write the MKV (default: stdout when it is not a terminal)',
      },
      {
        name: 'raw',
        type: 'boolean',
        description:
          "write the service's bytes, one MKV document per fragment (default: one merged MKV, with Cues and its duration in a file)",
      },
      {
        name: 'timestamp-type',
        type: 'string',
        value: '<type>',
        description: 'server (default) or producer: which timestamps --start and --until times refer to',
      },
      {
        name: 'idle-timeout',
        type: 'string',
        value: '<duration>',
        description:
          'stop when no fragment arrived for this long, e.g. 10s (default: wait; once an --until time has passed, the caught-up end of the response or 3s)',
      },
      {
        name: 'retry-for',
        type: 'string',
        value: '<duration>',
        description:
          'keep reconnecting for this long while GetMedia connections fail, e.g. 30s or 10m (default 60s); then exit 75',
      },
    ],
    sections: [
      [
        'Output on stderr',
        [
          'fragment 91343852333181432392682062201909211623961996386  producer 2026-11-28T12:00:00.000Z  server 2026-11-28T12:00:00.412Z  148,304 B  behind 1.2 s',
          'with --json: {"type":"fragment","fragmentNumber":"…","producerTimestamp":"…","serverTimestamp":"…","bytes":148304,…}',
        ],
      ],
    ],
    examples: [
      'kvs get my-stream -o live.mkv                          # follow from now until Ctrl-C',
      'kvs get my-stream --start earliest --until 10 -o first10.mkv',
      'kvs get my-stream --start -5m --until now -o last5min.mkv',
      'kvs get my-stream --start 2026-11-28T12:00:00Z --until 2026-11-28T12:05:00Z -o clip.mkv',
      'kvs get my-stream | ffplay -',
    ],
    aws: true,
  },
  {
    name: 'play',
    summary: 'print (or open) an HLS or DASH URL that plays a stream, live or a time range',
    description: [
      'Asks the service for an HLS streaming session (GetHLSStreamingSessionURL; --dash: DASH) and prints its',
      'URL, which plays in ffplay, VLC, Safari, hls.js or dash.js until the session expires (--expires, default',
      '5 minutes). Without --start the session is LIVE; with --start and --end it is ON_DEMAND (the range, then',
      'the end); with --start alone LIVE_REPLAY (from --start, at the pace of the media, then live). The stream',
      'must retain data (retention above 0) and hold H.264 or H.265 video with CodecPrivate, AAC audio optional.',
    ],
    positionals: [{ name: '<stream>', description: 'stream name' }],
    options: [
      {
        name: 'start',
        type: 'string',
        value: '<time>',
        description: 'first fragment: an ISO 8601 time, epoch seconds, -30s/-5m/-1h ago or now',
      },
      {
        name: 'end',
        type: 'string',
        value: '<time>',
        description: 'last fragment start (inclusive), as --start; within 24 hours of it',
      },
      {
        name: 'mode',
        type: 'string',
        value: '<mode>',
        description: 'live, live-replay or on-demand (default: from --start and --end)',
      },
      { name: 'dash', type: 'boolean', description: 'a DASH manifest URL instead of an HLS playlist' },
      { name: 'open', type: 'boolean', description: 'open the URL (open, xdg-open or start)' },
      {
        name: 'expires',
        type: 'string',
        value: '<duration>',
        description: 'how long the URL stays valid, 5m to 12h (default 5m)',
      },
      {
        name: 'max-fragments',
        type: 'string',
        value: '<n>',
        description: 'fragments per playlist, 1-5000 (default 5 live, 1000 on demand)',
      },
      {
        name: 'timestamp-type',
        type: 'string',
        value: '<type>',
        description: 'server (default) or producer: which timestamps --start and --end refer to',
      },
    ],
    examples: [
      'kvs play my-stream                                     # live, from now',
      'kvs play my-stream --start -10m --end -5m --open        # a past range in the browser or player',
      'ffplay "$(kvs play my-stream)"',
      'kvs play my-stream --dash --start 2026-11-28T12:00:00Z --end 2026-11-28T12:05:00Z',
    ],
    aws: true,
  },
  {
    name: 'clip',
    summary: 'write an MP4 file of a time range (GetClip)',
    description: [
      'Asks the service for the MP4 clip of the fragments that start between --start and --end (GetClip: at',
      'most 200 fragments or 100 MB from --start) and writes it to -o, or to stdout when it is not a terminal.',
    ],
    positionals: [{ name: '<stream>', description: 'stream name' }],
    options: [
      {
        name: 'start',
        type: 'string',
        value: '<time>',
        description: 'range start: ISO 8601, epoch seconds, -5m ago, now',
      },
      { name: 'end', type: 'string', value: '<time>', description: 'range end (inclusive), as --start' },
      {
        name: 'out',
        short: 'o',
        type: 'string',
        value: '<file|->',
        description: 'where to write the MP4 (default: stdout when it is not a terminal)',
      },
      {
        name: 'timestamp-type',
        type: 'string',
        value: '<type>',
        description: 'server (default) or producer: which timestamps --start and --end refer to',
      },
    ],
    examples: [
      'kvs clip my-stream --start -2m --end -1m -o clip.mp4',
      'kvs clip my-stream --start 2026-11-28T12:00:00Z --end 2026-11-28T12:00:30Z -o incident.mp4',
    ],
    aws: true,
  },
  {
    name: 'images',
    summary: 'write JPEG or PNG images of a time range, one per interval (GetImages)',
    description: [
      'Asks the service for an image every --every from --start to --end (GetImages, page by page) and writes',
      'each to the -o folder as <stream>-<time>.jpg. Times without media are reported, not written. The service',
      'samples at most every 3 seconds unless the quota was raised for the account.',
    ],
    positionals: [{ name: '<stream>', description: 'stream name' }],
    options: [
      {
        name: 'start',
        type: 'string',
        value: '<time>',
        description: 'first image time: ISO 8601, epoch seconds, -5m ago, now',
      },
      { name: 'end', type: 'string', value: '<time>', description: 'last image time, as --start' },
      {
        name: 'every',
        type: 'string',
        value: '<duration>',
        description: 'sampling interval, 3s to 20s (default 3s)',
      },
      { name: 'format', type: 'string', value: '<format>', description: 'jpeg (default) or png' },
      {
        name: 'width',
        type: 'string',
        value: '<px>',
        description: 'image width, with --height (default: the video size)',
      },
      {
        name: 'height',
        type: 'string',
        value: '<px>',
        description: 'image height (alone: the aspect ratio is kept)',
      },
      { name: 'quality', type: 'string', value: '<1-100>', description: 'JPEG quality (default 80)' },
      {
        name: 'out',
        short: 'o',
        type: 'string',
        value: '<dir>',
        description: 'folder to write the images to (made if missing; default: the current folder)',
      },
      {
        name: 'timestamp-type',
        type: 'string',
        value: '<type>',
        description: 'server (default) or producer: which timestamps --start and --end refer to',
      },
    ],
    examples: [
      'kvs images my-stream --start -1m --end now -o frames/',
      'kvs images my-stream --start -10m --end now --every 10s --format png --height 240 -o thumbs/',
    ],
    aws: true,
  },
  {
    name: 'streams create',
    summary: 'create a stream',
    description: ['Creates a stream (CreateStream) and waits until it is ACTIVE.'],
    positionals: [
      { name: '<stream>', description: 'stream name (1-256 characters: letters, digits, _ . -)' },
    ],
    options: [
      {
        name: 'retention-hours',
        type: 'string',
        value: '<hours>',
        description: 'data retention in hours (default 24; 0 keeps nothing, so GetMedia only sees live data)',
      },
      {
        name: 'media-type',
        type: 'string',
        value: '<type>',
        description: 'media type, e.g. video/h264 (default video/h264)',
      },
      { name: 'device-name', type: 'string', value: '<name>', description: 'device name' },
      {
        name: 'kms-key-id',
        type: 'string',
        value: '<key>',
        description: 'KMS key for encryption at rest (default: the KVS managed key)',
      },
    ],
    examples: [
      'kvs streams create my-stream --retention-hours 48',
      'kvs streams create cam-1 --media-type video/h265 --region eu-west-1',
    ],
    aws: true,
  },
  {
    name: 'streams describe',
    summary: 'show a stream',
    description: [
      'Shows a stream (DescribeStream): status, ARN, retention, media type, creation time, version.',
    ],
    positionals: [{ name: '<stream>', description: 'stream name' }],
    options: [],
    examples: ['kvs streams describe my-stream', 'kvs streams describe my-stream --json'],
    aws: true,
  },
  {
    name: 'streams list',
    summary: 'list streams',
    description: ['Lists the streams of the region (ListStreams, every page).'],
    positionals: [],
    options: [
      {
        name: 'prefix',
        type: 'string',
        value: '<prefix>',
        description: 'only streams whose name begins with this',
      },
    ],
    examples: ['kvs streams list', 'kvs streams list --prefix cam- --json'],
    aws: true,
  },
  {
    name: 'streams delete',
    summary: 'delete a stream',
    description: ['Deletes a stream (DeleteStream) and all its data. Takes a name or an ARN.'],
    positionals: [{ name: '<stream>', description: 'stream name or ARN' }],
    options: [],
    examples: ['kvs streams delete my-stream'],
    aws: true,
  },
  {
    name: 'emulator',
    summary: 'run a local KVS emulator in the foreground',
    description: [
      'Runs the kvs-streams emulator: the KVS control plane, SigV4 checks, PutMedia with acknowledgements and',
      'GetMedia, on plain HTTP (HTTPS with --tls). Prints the endpoint and the credentials it accepts; stops on',
      'Ctrl-C. With --tls it makes its own CA at first start and prints its path, for AWS_CA_BUNDLE.',
      'Its region is --region, AWS_REGION or AWS_DEFAULT_REGION when set, else us-east-1.',
    ],
    positionals: [],
    options: [
      {
        name: 'port',
        type: 'string',
        value: '<port>',
        description: 'TCP port (default 4567; 0 picks a free one)',
      },
      {
        name: 'host',
        type: 'string',
        value: '<address>',
        description: 'address to bind (default 127.0.0.1)',
      },
      {
        name: 'data-dir',
        type: 'string',
        value: '<dir>',
        description: 'keep streams and fragments on disk in this directory (survives restarts)',
      },
      {
        name: 'memory',
        type: 'boolean',
        description: 'keep everything in memory (the default without --data-dir)',
      },
      {
        name: 'max-memory',
        type: 'string',
        value: '<size>',
        description:
          'keep at most this many bytes of fragments in memory (512MB, 1GiB), dropping the oldest (default no limit)',
      },
      {
        name: 'no-verify',
        type: 'boolean',
        description: 'accept requests without checking their signatures',
      },
      {
        name: 'no-cors',
        type: 'boolean',
        description: 'do not answer CORS preflights (by default pages on any origin may call it with fetch)',
      },
      {
        name: 'no-console',
        type: 'boolean',
        description:
          'do not serve the local console (by default a web page at / shows streams and plays them)',
      },
      {
        name: 'get-media-idle-timeout',
        type: 'string',
        value: '<duration>',
        description:
          'end a GetMedia response that has sent every fragment once none comes for this long (default 3s)',
      },
      {
        name: 'access-key-id',
        type: 'string',
        value: '<id>',
        description: 'access key id to accept (default AKIDKVSEMULATOR)',
      },
      {
        name: 'secret-access-key',
        type: 'string',
        value: '<key>',
        description: 'its secret (default kvs-emulator-secret)',
      },
      {
        name: 'tls',
        type: 'boolean',
        description: "serve HTTPS with a certificate signed by the emulator's own CA (kept in --tls-dir)",
      },
      {
        name: 'tls-cert',
        type: 'string',
        value: '<file>',
        description: 'serve HTTPS with this PEM certificate (chain) instead; needs --tls-key',
      },
      {
        name: 'tls-key',
        type: 'string',
        value: '<file>',
        description: 'the PEM private key of --tls-cert',
      },
      {
        name: 'tls-dir',
        type: 'string',
        value: '<dir>',
        description:
          'where the generated CA and certificate live (default <data-dir>/tls, else ~/.kvs-emulator/tls)',
      },
      {
        name: 'public-url',
        type: 'string',
        value: '<url>',
        description:
          'URL clients reach it by, behind a proxy or in a container (what GetDataEndpoint returns)',
      },
    ],
    examples: [
      'kvs emulator',
      'kvs emulator --data-dir ./kvs-data --port 4600',
      'kvs emulator --tls   # https://127.0.0.1:4567, CA at ~/.kvs-emulator/tls/ca.pem',
      '# in another shell:',
      'export AWS_ENDPOINT_URL=http://127.0.0.1:4567 AWS_REGION=us-east-1',
      'export AWS_ACCESS_KEY_ID=AKIDKVSEMULATOR AWS_SECRET_ACCESS_KEY=kvs-emulator-secret',
      'kvs put demo video.mkv --create && kvs get demo --start earliest --until 8 -o copy.mkv',
    ],
    aws: false,
  },
]

/** The spec of `name` (`put`, `streams create`), if there is one. */
export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((command) => command.name === name)
}
