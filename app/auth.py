"""API keys: issued with a recognisable prefix, stored as SHA-256, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_PREFIX = "dhk_"
ROLES = ("admin", "hotline", "liaison", "unit", "deputy", "station")


def generate_key() -> str:
    """A new random key; only its hash is ever stored."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is safe here; a slow KDF would only add latency.
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <key>` header."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
