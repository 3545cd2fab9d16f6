"""Standard Webhooks signing: `webhook-id`, `webhook-timestamp`, `webhook-signature`.

The signed content is `"{id}.{timestamp}.{body}"`, HMAC-SHA256, base64, prefixed `v1,`.
A secret written `whsec_<base64>` is base64-decoded to get the key (the convention's
format); any other secret is used as its UTF-8 bytes. A unit without a secret gets
unsigned deliveries: the id and timestamp headers, no `webhook-signature`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    """The HMAC key a unit's stored secret stands for."""
    if secret.startswith(PREFIX):
        try:
            return base64.b64decode(secret[len(PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            pass  # not valid base64 after all: use the text as given
    return secret.encode()


def signature(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""
    content = f"{msg_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(msg_id: str, timestamp: int, body: str, secret: str | None) -> dict[str, str]:
    """The request headers of one attempt; the timestamp is the attempt's own."""
    out = {
        "content-type": "application/json",
        "user-agent": "deputy-hotline-webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
    }
    if secret:
        out["webhook-signature"] = signature(secret, msg_id, timestamp, body)
    return out
