/**
 * Ack strings copied verbatim from the protocol dossier (§3.2, §3.7), with where each was recorded.
 * They are data: do not reformat.
 */

/** cpp #981: BUFFERING with an absolute epoch-ms timecode. */
export const bufferingCpp981 =
  '{"EventType":"BUFFERING","FragmentTimecode":1677613819540,"FragmentNumber":"91343852333182006801812051225829315333083406205"}'
/** cpp #981: PERSISTED. */
export const persistedCpp981 =
  '{"EventType":"PERSISTED","FragmentTimecode":1677613818261,"FragmentNumber":"91343852333182006796860291068687794162371630095"}'
/** cpp #1281: RECEIVED with a small, relative timecode. */
export const receivedCpp1281 =
  '{"EventType":"RECEIVED","FragmentTimecode":175500,"FragmentNumber":"91343852333193945545068521028853425951006228697"}'
/** cpp #226: ERROR 4004 as the service writes it (ErrorCode before ErrorId). */
export const errorCpp226 =
  '{"EventType":"ERROR","FragmentTimecode":0,"FragmentNumber":"91343852333181571046918222741096071001568090649","ErrorCode":"FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS","ErrorId":4004}'
/** producer-c #345: BUFFERING. */
export const bufferingC345 =
  '{"EventType":"BUFFERING","FragmentTimecode":1673627041807,"FragmentNumber":"91343852333181432412489103279736132918353155750"}'
/** producer-c #345: PERSISTED. */
export const persistedC345 =
  '{"EventType":"PERSISTED","FragmentTimecode":1673627039807,"FragmentNumber":"91343852333181432407537343122594611150428754261"}'
/** seqsense/kinesisvideomanager putresp_test.go: ERROR with ErrorId before ErrorCode. */
export const errorSeqTest =
  '{"EventType":"ERROR","FragmentTimecode":12345,"FragmentNumber":"91343852333754009371412493862204112772176002064","ErrorId":5000,"ErrorCode":"DUMMY_ERROR"}'
/** seqsense/kinesisvideomanager putresp_test.go: a truncated body. */
export const truncatedSeqTest = '{'

/** seqsense/kinesisvideomanager kvsmockserver: `{"EventType":"PERSISTED", "FragmentTimecode":%d, "FragmentNumber":"%s"}`. */
export function persistedSeqMock(timecode: number): string {
  return `{"EventType":"PERSISTED", "FragmentTimecode":${timecode}, "FragmentNumber":"${String(timecode).padStart(47, '0')}"}`
}

/** CPP initial commit 841a7d0, DefaultCallbackProvider.cpp: the pre-GA camelCase format. */
export const historicCamelCase =
  '{"ackEventType":"PERSISTED","fragmentTimecode":3400,"fragmentNumber":"91343852344490898070324846249945695249403494059"}'

/** Non-ack bodies (§1.3): lowercase and capital `message`, and the Coral envelope of aws-sdk-js #2093. */
export const tokenExpired = '{"message":"The security token included in the request is expired"}'
export const streamNotFound = '{"Message":"The requested stream is not found or not active."}'
export const coralEnvelope =
  '{"Output":{"__type":"com.amazon.coral.service#SerializationException","Message":null},"Version":"1.0"}'
