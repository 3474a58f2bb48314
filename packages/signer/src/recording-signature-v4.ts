import { SignatureV4 } from '@smithy/signature-v4'
import type { HeaderBag, HttpRequest } from '@smithy/types'

/**
 * `SignatureV4` that keeps the canonical request and string to sign it builds, so the steps a `SignedRequest`
 * exposes are smithy's own intermediate values, obtained without hashing twice. Relies on the protected
 * `createCanonicalRequest` / `createStringToSign` hooks of `SignatureV4Base`; if a smithy release stops calling
 * them, the fields stay `undefined` and the caller recomputes the steps itself. One instance signs one request.
 */
export class RecordingSignatureV4 extends SignatureV4 {
  /** Set while `sign()` runs; `undefined` if smithy did not call the hook. */
  recordedCanonicalRequest: string | undefined
  /** Set while `sign()` runs; `undefined` if smithy did not call the hook. */
  recordedStringToSign: string | undefined

  protected override createCanonicalRequest(
    request: HttpRequest,
    canonicalHeaders: HeaderBag,
    payloadHash: string,
  ): string {
    const canonicalRequest = super.createCanonicalRequest(request, canonicalHeaders, payloadHash)
    this.recordedCanonicalRequest = canonicalRequest
    return canonicalRequest
  }

  protected override async createStringToSign(
    longDate: string,
    credentialScope: string,
    canonicalRequest: string,
    algorithmIdentifier: string,
  ): Promise<string> {
    const stringToSign = await super.createStringToSign(
      longDate,
      credentialScope,
      canonicalRequest,
      algorithmIdentifier,
    )
    this.recordedStringToSign = stringToSign
    return stringToSign
  }
}
