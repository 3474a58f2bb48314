#!/usr/bin/env python3
"""Signs one request with botocore's SigV4Auth, as an independent reference for the signer tests.

Reads a JSON object on stdin:
  method, url, headers (object), region, service, timestamp (ISO 8601, e.g. "2023-02-28T19:50:18Z"),
  credentials {accessKeyId, secretAccessKey, sessionToken?},
  body (string, optional; botocore hashes it),
  contentSha256Header (bool, optional: set X-Amz-Content-SHA256 to botocore's own payload hash before signing,
    as @smithy/signature-v4 does by default),
  unsigned (bool, optional: botocore's payload_signing_enabled=False, i.e. UNSIGNED-PAYLOAD).
A header "x-amz-content-sha256" given in `headers` is used verbatim by botocore.

Prints a JSON object: headers (every header botocore added or set, lower-case names), canonicalRequest,
stringToSign, botocoreVersion.
"""
import datetime
import json
import sys
from unittest import mock

import botocore
import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


class CapturingSigV4Auth(SigV4Auth):
    """SigV4Auth that remembers the canonical request and string to sign it computed."""

    def canonical_request(self, request):
        self.captured_canonical_request = super().canonical_request(request)
        return self.captured_canonical_request

    def string_to_sign(self, request, canonical_request):
        self.captured_string_to_sign = super().string_to_sign(request, canonical_request)
        return self.captured_string_to_sign


def main():
    spec = json.load(sys.stdin)
    fixed = datetime.datetime.strptime(spec['timestamp'], '%Y-%m-%dT%H:%M:%SZ')

    class FixedDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

        @classmethod
        def now(cls, tz=None):
            return fixed.replace(tzinfo=tz) if tz is not None else fixed

    credentials = spec['credentials']
    auth = CapturingSigV4Auth(
        Credentials(credentials['accessKeyId'], credentials['secretAccessKey'], credentials.get('sessionToken')),
        spec['service'],
        spec['region'],
    )
    body = spec.get('body')
    request = AWSRequest(
        method=spec['method'],
        url=spec['url'],
        headers=dict(spec.get('headers', {})),
        data=body.encode('utf-8') if body is not None else None,
    )
    if spec.get('unsigned'):
        request.context['payload_signing_enabled'] = False
    before = {name.lower(): value for name, value in request.headers.items()}
    if spec.get('contentSha256Header'):
        request.headers['X-Amz-Content-SHA256'] = auth.payload(request)

    # botocore.auth reads the clock with datetime.datetime.utcnow() (older releases) or
    # botocore.compat.get_current_datetime() -> datetime.datetime.now(datetime.timezone.utc) (newer ones).
    patches = [mock.patch.object(botocore.auth.datetime, 'datetime', FixedDatetime)]
    if hasattr(botocore.auth, 'get_current_datetime'):
        patches.append(mock.patch.object(botocore.auth, 'get_current_datetime', lambda *args, **kwargs: fixed))
    for patch in patches:
        patch.start()
    try:
        auth.add_auth(request)
    finally:
        for patch in reversed(patches):
            patch.stop()

    after = {name.lower(): value for name, value in request.headers.items()}
    added = {name: value for name, value in after.items() if before.get(name) != value}
    json.dump(
        {
            'headers': added,
            'canonicalRequest': auth.captured_canonical_request,
            'stringToSign': auth.captured_string_to_sign,
            'botocoreVersion': botocore.__version__,
        },
        sys.stdout,
    )


if __name__ == '__main__':
    main()
