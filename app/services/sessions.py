"""Signing in and out: sessions, their idle and absolute limits, and the lockout.

A session is a random token in a cookie; only its SHA-256 is stored. It ends after 30
minutes without a request, 12 hours after sign-in, at sign-out, and at once when its
account is disabled or given a new invitation link.

Five failed sign-ins for a username within 15 minutes lock that username for 15 minutes.
Unknown usernames are counted and locked alike, and every attempt checks a password hash
(a dummy one when there is none), so neither the answer nor its timing says whether a
username exists. The hash is checked outside any transaction: a sign-in holds no database
connection or lock while the CPU works (see `sign_in`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app.models import Account, UserSession
from app.repositories import accounts as repo
from app.services import passwords
from app.services.accounts import normalize_username, record, token_hash
from app.services.context import Actor

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
# A session's last request is written at most once a minute (not on every page), so the
# idle limit may end a session up to a minute early, never late.
TOUCH_EVERY = timedelta(minutes=1)
LOCK_AFTER = 5
WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class SignedIn:
    """A valid session and the person behind it."""

    session_id: str
    account_id: str
    username: str
    display_name: str
    role: str
    unit_code: str | None
    unit_name: str | None
    deputy_id: str | None
    station_code: str | None
    csrf_token: str
    last_seen_at: datetime

    def actor(self) -> Actor:
        return Actor(
            role=self.role,
            unit_code=self.unit_code,
            deputy_id=self.deputy_id,
            station_code=self.station_code,
            username=self.username,
            label=self.display_name,
        )


def lookup(db: Session | Connection, token: str | None, now: datetime) -> SignedIn | None:
    """The session a cookie stands for, while it is valid; None otherwise. Every page asks
    this: a plain connection is enough (no ORM session to set up)."""
    if not token or len(token) > 200:
        return None
    row = repo.signed_in(db, token_hash(token))
    if row is None:
        return None
    (
        sid,
        account_id,
        username,
        display_name,
        role,
        unit_code,
        unit_name,
        deputy_id,
        station_code,
        csrf,
        last_seen_at,
        expires_at,
    ) = row
    if now >= expires_at or now - last_seen_at >= IDLE:
        return None
    return SignedIn(
        sid,
        account_id,
        username,
        display_name,
        role,
        unit_code,
        unit_name,
        deputy_id,
        station_code,
        csrf,
        last_seen_at,
    )


def needs_touch(signed_in: SignedIn, now: datetime) -> bool:
    return now - signed_in.last_seen_at >= TOUCH_EVERY


def touch(session: Session, session_id: str, now: datetime) -> None:
    """Record a request on the session (what the idle limit counts from)."""
    repo.touch_session(session, session_id, now)


def sign_out(session: Session, token: str | None, now: datetime) -> None:
    if not token or len(token) > 200:
        return
    row = repo.open_session(session, token_hash(token))
    if row is None:
        return
    row.ended_at, row.end_reason = now, "signed_out"
    account = session.get(Account, row.account_id)
    record(
        session,
        account=account,
        at=now,
        actor=f"user:{account.username}" if account else "unknown",
        type_="session.signed_out",
    )


# --- signing in ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """What a sign-in needs to know before the password is checked (read without locks)."""

    username: str
    account_id: str | None
    password_hash: str | None
    locked: bool


@dataclass(frozen=True)
class Outcome:
    """A sign-in's result: a new session's token and CSRF token, or a refusal."""

    token: str | None = None
    csrf_token: str | None = None
    locked: bool = False

    @property
    def ok(self) -> bool:
        return self.token is not None


def prepare(session: Session, raw_username: str, now: datetime) -> Attempt:
    """Read the account and the throttle (no transaction needed)."""
    username = normalize_username(raw_username)[:64]
    account = repo.password_of(session, username)
    locked_until = repo.locked_until(session, username)
    return Attempt(
        username=username,
        account_id=account[0] if account else None,
        password_hash=account[1] if account else None,
        locked=locked_until is not None and locked_until > now,
    )


@dataclass(frozen=True)
class Checked:
    """The password check, done outside any transaction."""

    matched: bool
    rehash: str | None  # a new hash when the stored one used older parameters


def check(attempt: Attempt, password: str, wait: float = passwords.WAIT_SECONDS) -> Checked:
    """Check the password (CPU only). Always checks a hash, even for a locked or unknown
    username, so that every refusal takes about as long. `wait` bounds the wait for a free
    check slot (Unavailable after it)."""
    matched = passwords.verify(attempt.password_hash, password, wait)
    rehash = None
    if matched and attempt.password_hash and passwords.needs_rehash(attempt.password_hash):
        rehash = passwords.hash_password(password, wait)
    return Checked(matched=matched and not attempt.locked, rehash=rehash)


def finish(session: Session, attempt: Attempt, checked: Checked, now: datetime) -> Outcome:
    """Record the attempt in one short transaction: a session when the password matched
    and the username is not locked (the lock is read again, under the row lock), a failure
    otherwise, locking the username at the fifth failure within the window."""
    throttle = repo.throttle_row(session, attempt.username, now)
    locked = throttle.locked_until is not None and throttle.locked_until > now
    account = session.get(Account, attempt.account_id) if attempt.account_id else None
    if (
        checked.matched
        and not locked
        and account is not None
        and account.disabled_at is None
        and account.password_hash == attempt.password_hash
    ):
        throttle.failures, throttle.locked_until, throttle.updated_at = [], None, now
        if checked.rehash:
            account.password_hash = checked.rehash
        return _open(session, account, now, {})
    if locked:
        _failed(session, account, now, "sign_in.locked_out")
        return Outcome(locked=True)
    since = (now - WINDOW).timestamp()
    failures = [t for t in throttle.failures if t > since] + [now.timestamp()]
    if len(failures) >= LOCK_AFTER:
        throttle.failures, throttle.locked_until = [], now + LOCK_FOR
        _failed(session, account, now, "sign_in.locked")
    else:
        throttle.failures = failures
    throttle.updated_at = now
    _failed(session, account, now, "sign_in.failed")
    return Outcome(locked=throttle.locked_until is not None and throttle.locked_until > now)


def _open(session: Session, account: Account, now: datetime, data: dict[str, str]) -> Outcome:
    """A new session for the account."""
    account.last_sign_in_at = now
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        UserSession(
            account_id=account.id,
            token_hash=token_hash(token),
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE,
        )
    )
    record(
        session,
        account=account,
        at=now,
        actor=f"user:{account.username}",
        type_="session.signed_in",
        data=data,
    )
    return Outcome(token=token, csrf_token=csrf)


def sign_in_external(
    session: Session, *, username: str, now: datetime, via: str, subject: str
) -> Outcome | None:
    """A session for the existing, enabled account that an identity provider vouched for
    (single sign-on); None when there is none. No account is ever created here: the city
    decides who may use the service by creating accounts (SPEC "People and sign-in").

    The password lockout does not apply: nothing is being guessed here."""
    name = normalize_username(username)
    account = repo.by_username_for_update(session, name[:64]) if len(name) <= 64 else None
    if account is None:
        return None
    if account.disabled_at is not None:
        record(
            session,
            account=account,
            at=now,
            actor=f"{via}:{subject}"[:100],
            type_="sign_in.refused",
            data={"via": via, "reason": "disabled"},
        )
        return None
    return _open(session, account, now, {"via": via, "subject": subject})


def _failed(session: Session, account: Account | None, now: datetime, type_: str) -> None:
    """Failures are logged for known accounts only: guessed usernames would otherwise let
    anyone grow the log without bound (the throttle rows they leave are swept away)."""
    if account is not None:
        record(session, account=account, at=now, actor="anonymous", type_=type_)


def housekeeping(session: Session, now: datetime) -> None:
    """Forget what no longer matters: throttle rows past their window and lock, and
    sessions that ended or expired more than 30 days ago."""
    repo.forget(session, throttled_before=now - WINDOW, now=now, ended_before=now - timedelta(days=30))
