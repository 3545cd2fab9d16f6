"""Single sign-on with a city's unified identity system (统一身份认证) by OpenID Connect:
the relying party's half of the authorization code flow, with PKCE (S256), state and nonce.

Authlib builds the requests (authorization URL, token request, client authentication,
PKCE challenge) and checks the ID token's claims (issuer, audience, expiry, issued-at,
nonce, authorized party, at_hash); joserfc, Authlib's JOSE library, checks its signature
against the keys the provider publishes. httpx carries every request with a time limit.

What a sign-in carries from its start to the callback (state, nonce, PKCE verifier, the page
to return to) lives in a short-lived HttpOnly cookie rather than in the database: any
replica can finish a sign-in that another began, and an abandoned one leaves nothing.

Which account a person signs in to is decided elsewhere (`sessions.sign_in_external`):
this module only proves who the provider says the person is.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.config import Settings

log = logging.getLogger("hotline.oidc")

# A sign-in must come back from the provider within this time.
PENDING_FOR = 600
# Discovery metadata is re-read this often; the signing keys also whenever a token names a
# key not yet known (the provider rotated its keys), at most once a minute.
METADATA_FOR = 3600
KEYS_REFETCH_AFTER = 60
# Allowed clock difference between this server and the provider, in seconds.
LEEWAY = 60
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# Signatures made with the provider's private key only: never "none", never HMAC (whose
# key would be the client secret, shared with everyone who holds it).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class ProviderUnavailable(Exception):
    """The identity provider did not answer (in time, or sensibly): try again later."""


class SignInRefused(Exception):
    """The sign-in cannot be completed; `reason` is logged, never shown."""

    def __init__(self, reason: str, *, cancelled: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cancelled = cancelled  # the person cancelled at the provider


@dataclass(frozen=True)
class Pending:
    """A sign-in under way: what the callback must match (kept in a cookie)."""

    state: str
    nonce: str
    verifier: str
    next_url: str
    started_at: int

    def dump(self) -> str:
        raw = json.dumps(asdict(self), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def load(cls, raw: str | None) -> Pending | None:
        """The pending sign-in a cookie holds; None for anything else."""
        if not raw or len(raw) > 2000:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            pending = cls(**data)
        except (ValueError, TypeError):
            return None
        fields = (pending.state, pending.nonce, pending.verifier, pending.next_url)
        if not all(isinstance(f, str) for f in fields) or not isinstance(pending.started_at, int):
            return None
        return pending


@dataclass(frozen=True)
class Identity:
    """Who the provider vouches for: its subject and the configured claim's value."""

    subject: str
    username: str


class OidcClient:
    """One identity provider, as configured by the HOTLINE_OIDC_* settings."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self.redirect_uri = settings.oidc_callback
        self.scopes = settings.oidc_scopes
        self.claim = settings.oidc_username_claim
        self._auth = ClientAuth(self.client_id, settings.oidc_client_secret or "", settings.oidc_token_auth)
        self._transport = transport
        # ID tokens are stamped by the provider's clock, which follows real time: they are
        # checked against real time, not against the service's business clock.
        self._now = now
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0

    # --- the provider's metadata and keys -----------------------------------------------

    def _get(self, url: str, **kw: Any) -> httpx.Response:
        try:
            with httpx.Client(timeout=TIMEOUT, transport=self._transport) as http:
                return http.get(url, **kw)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"GET {url}: {type(exc).__name__}") from None

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (OpenID Connect Discovery 1.0), cached."""
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata_at < METADATA_FOR:
                return self._metadata
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        response = self._get(url)
        try:
            data = response.json() if response.status_code == 200 else None
        except ValueError:
            data = None
        needed = ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in needed):
            raise ProviderUnavailable(f"{url} answered {response.status_code} without metadata")
        # The document must name the very issuer configured (Discovery §4.3): otherwise
        # another provider's tokens could pass for this one's.
        if data.get("issuer") != self.issuer:
            raise ProviderUnavailable(
                f"{url} names the issuer {data.get('issuer')!r}, not {self.issuer!r} (HOTLINE_OIDC_ISSUER)"
            )
        with self._lock:
            self._metadata, self._metadata_at = data, time.monotonic()
        return data

    def _key_set(self, *, refresh: bool = False) -> KeySet:
        with self._lock:
            fresh = time.monotonic() - self._keys_at < KEYS_REFETCH_AFTER
            if self._keys is not None and (not refresh or fresh):
                return self._keys
        response = self._get(self.metadata()["jwks_uri"])
        try:
            keys = KeySet.import_key_set(response.json())
        except (ValueError, TypeError, KeyError, JoseError):
            raise ProviderUnavailable("the provider's jwks_uri holds no usable keys") from None
        with self._lock:
            self._keys, self._keys_at = keys, time.monotonic()
        return keys

    # --- the flow -----------------------------------------------------------------------

    def begin(self, next_url: str) -> tuple[str, Pending]:
        """The provider's authorization URL to send the browser to, and what to keep."""
        endpoint = self.metadata()["authorization_endpoint"]
        pending = Pending(
            state=generate_token(43),
            nonce=generate_token(43),
            verifier=generate_token(64),
            next_url=next_url,
            started_at=int(self._now()),
        )
        url = prepare_grant_uri(
            endpoint,
            self.client_id,
            "code",
            redirect_uri=self.redirect_uri,
            scope=self.scopes,
            state=pending.state,
            nonce=pending.nonce,
            code_challenge=create_s256_code_challenge(pending.verifier),
            code_challenge_method="S256",
        )
        return url, pending

    def finish(self, pending: Pending | None, params: Mapping[str, str]) -> Identity:
        """Check the provider's answer against the pending sign-in, redeem the code, check
        the ID token and read the username claim."""
        state = params.get("state", "")
        if pending is None:
            raise SignInRefused("no sign-in under way in this browser (no or bad cookie)")
        if not state or not hmac.compare_digest(state.encode(), pending.state.encode()):
            raise SignInRefused("state does not match this browser's sign-in")
        if self._now() - pending.started_at > PENDING_FOR:
            raise SignInRefused("the sign-in took longer than 10 minutes")
        metadata = self.metadata()
        # RFC 9207: the answer names who sent it (mix-up defence) when the provider says so.
        iss_expected = "iss" in params or metadata.get("authorization_response_iss_parameter_supported")
        if iss_expected and params.get("iss") != self.issuer:
            raise SignInRefused(f"the answer's iss is {params.get('iss')!r}")
        if params.get("error"):
            raise SignInRefused(
                f"the provider answered {params['error']}", cancelled=params["error"] == "access_denied"
            )
        code = params.get("code")
        if not code:
            raise SignInRefused("the provider's answer has no code")
        tokens = self._redeem(metadata["token_endpoint"], code, pending.verifier)
        claims = self._id_token(tokens, pending.nonce)
        subject = str(claims["sub"])
        value = claims.get(self.claim)
        if value is None and isinstance(metadata.get("userinfo_endpoint"), str):
            value = self._userinfo(metadata["userinfo_endpoint"], tokens, subject).get(self.claim)
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            raise SignInRefused(f"the provider gave no {self.claim} claim for this person")
        return Identity(subject=subject, username=str(value))

    def _redeem(self, endpoint: str, code: str, verifier: str) -> dict[str, Any]:
        body = prepare_token_request(
            "authorization_code", code=code, redirect_uri=self.redirect_uri, code_verifier=verifier
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        url, headers, body = self._auth.prepare("POST", endpoint, headers, body)
        try:
            with httpx.Client(timeout=TIMEOUT, transport=self._transport) as http:
                response = http.post(url, headers=headers, content=body)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"POST {endpoint}: {type(exc).__name__}") from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 500:
            raise ProviderUnavailable(f"the token endpoint answered {response.status_code}")
        if (
            response.status_code != 200
            or not isinstance(data, dict)
            or not isinstance(data.get("id_token"), str)
        ):
            error = data.get("error") if isinstance(data, dict) else None
            raise SignInRefused(f"the token endpoint refused the code ({response.status_code} {error})")
        return data

    def _id_token(self, tokens: dict[str, Any], nonce: str) -> CodeIDToken:
        allowed = [
            a
            for a in self.metadata().get("id_token_signing_alg_values_supported", ["RS256"])
            if a in ALGORITHMS
        ] or ["RS256"]
        try:
            try:
                token = jwt.decode(tokens["id_token"], self._key_set(), algorithms=allowed)
            except JoseError:
                # Perhaps signed with a key published since the keys were read.
                token = jwt.decode(tokens["id_token"], self._key_set(refresh=True), algorithms=allowed)
            claims = CodeIDToken(
                token.claims,
                token.header,
                options={
                    "iss": {"essential": True, "value": self.issuer},
                    "aud": {"essential": True, "value": self.client_id},
                },
                params={
                    "nonce": nonce,
                    "client_id": self.client_id,
                    "access_token": tokens.get("access_token"),
                },
            )
            claims.validate(now=int(self._now()), leeway=LEEWAY)
        except JoseError as exc:
            raise SignInRefused(f"the ID token failed its checks: {exc}") from None
        return claims

    def _userinfo(self, endpoint: str, tokens: dict[str, Any], subject: str) -> dict[str, Any]:
        access = tokens.get("access_token")
        if not isinstance(access, str):
            return {}
        response = self._get(
            endpoint, headers={"Authorization": f"Bearer {access}", "Accept": "application/json"}
        )
        try:
            data = response.json() if response.status_code == 200 else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            return {}
        # The UserInfo answer must be about the ID token's person (Core §5.3.2).
        if data.get("sub") != subject:
            raise SignInRefused("the userinfo answer is about another subject")
        return data
