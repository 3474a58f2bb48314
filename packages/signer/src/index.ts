export { STREAMING_PAYLOAD, UNSIGNED_PAYLOAD } from './constants.ts'
export type { CredentialsSource } from './credentials-cache.ts'
export {
  ERR_KVS_SIGNER_MISSING_REGION,
  KvsSignerError,
  type KvsSignerErrorCode,
  type KvsSignerErrorOptions,
} from './errors.ts'
export { formatProducerStartTimestamp } from './producer-timestamp.ts'
export type { SignedRequest } from './sign-http-request.ts'
export { createKvsSigner, type KvsSigner, type KvsSignerOptions, type RequestToSign } from './signer.ts'
export type { SigningSteps } from './signing-steps.ts'
export {
  type VerifyErrorType,
  type VerifyOptions,
  type VerifyRequestInput,
  type VerifyResult,
  verifyRequest,
  verifyRequestSync,
} from './verify-request.ts'
