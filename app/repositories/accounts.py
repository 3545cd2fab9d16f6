"""Account and API key queries: people's accounts (by id, username or invitation link),
their sessions and sign-in throttle, and the keys client systems use."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app.models import Account, ApiKey, SignInThrottle, Unit, UserSession


def get(session: Session, account_id: str, *, for_update: bool = False) -> Account | None:
    """One account by id (locked for the transaction when `for_update`)."""
    q = select(Account).where(Account.id == account_id)
    if for_update:
        q = q.with_for_update()
    return session.scalar(q)


def id_by_username(session: Session, username: str) -> str | None:
    """The id of the account with this (normalized) username."""
    return session.scalar(select(Account.id).where(Account.username == username))


def listed(
    session: Session, *, roles: Collection[str] | None, after: str | None, limit: int
) -> list[Account]:
    """Accounts by username (of these roles when given), after the cursor's username."""
    q = select(Account).order_by(Account.username).limit(limit)
    if roles is not None:
        q = q.where(Account.role.in_(roles))
    if after:
        q = q.where(Account.username > after)
    return list(session.scalars(q))


def by_invite(session: Session, invite_hash: str, *, for_update: bool = False) -> Account | None:
    """The account whose invitation link has this hash (locked when `for_update`)."""
    q = select(Account).where(Account.invite_hash == invite_hash)
    if for_update:
        q = q.with_for_update()
    return session.scalar(q)


def end_sessions(session: Session, account_id: str, now: datetime, reason: str) -> None:
    """End every session of the account still open."""
    session.execute(
        update(UserSession)
        .where(
            UserSession.account_id == account_id,
            UserSession.ended_at.is_(None),
        )
        .values(ended_at=now, end_reason=reason)
    )


def display_names(session: Session, usernames: Collection[str]) -> dict[str, str]:
    """username -> display name of these accounts."""
    q = select(Account.username, Account.display_name).where(Account.username.in_(usernames))
    return {u: n for u, n in session.execute(q)}


# --- API keys ------------------------------------------------------------------------------


def keys(session: Session) -> list[ApiKey]:
    """Every key, in creation order."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)))


def key_by_hash(session: Session, key_hash: str) -> ApiKey | None:
    """The key with this hash (revoked or not)."""
    return session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))


def get_key(session: Session, key_id: str) -> ApiKey | None:
    """One key by id."""
    return session.get(ApiKey, key_id)


def key_labels(session: Session, key_ids: Collection[str]) -> dict[str, str]:
    """id -> label of these keys."""
    return {
        i: label
        for i, label in session.execute(select(ApiKey.id, ApiKey.label).where(ApiKey.id.in_(key_ids)))
    }


# --- sessions and sign-in ------------------------------------------------------------------

# Built once (binding a value costs less than building the statement).
_SIGNED_IN = (
    select(
        UserSession.id,
        UserSession.account_id,
        Account.username,
        Account.display_name,
        Account.role,
        Account.unit_code,
        Unit.name,
        Account.deputy_id,
        Account.station_code,
        UserSession.csrf_token,
        UserSession.last_seen_at,
        UserSession.expires_at,
    )
    .select_from(UserSession)
    .join(Account, Account.id == UserSession.account_id)
    .outerjoin(Unit, Unit.code == Account.unit_code)
    .where(
        UserSession.token_hash == bindparam("digest"),
        UserSession.ended_at.is_(None),
        Account.disabled_at.is_(None),
    )
)


def signed_in(db: Session | Connection, digest: str) -> Any:
    """The open session of an enabled account whose token has this hash: (session id,
    account id, username, display name, role, unit, unit name, deputy, station, CSRF token,
    last seen, expires). A plain connection is enough (no ORM session to set up)."""
    return db.execute(_SIGNED_IN, {"digest": digest}).first()


def touch_session(session: Session, session_id: str, now: datetime) -> None:
    """Record a request on an open session."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.ended_at.is_(None))
        .values(last_seen_at=now)
    )


def open_session(session: Session, digest: str) -> UserSession | None:
    """The open session whose token has this hash."""
    return session.scalar(
        select(UserSession).where(UserSession.token_hash == digest, UserSession.ended_at.is_(None))
    )


def password_of(session: Session, username: str) -> Any:
    """(id, password hash) of the enabled account with this username."""
    return session.execute(
        select(Account.id, Account.password_hash).where(
            Account.username == username, Account.disabled_at.is_(None)
        )
    ).first()


def locked_until(session: Session, username: str) -> datetime | None:
    """Until when sign-ins to this username are refused (its throttle row's lock)."""
    return session.scalar(select(SignInThrottle.locked_until).where(SignInThrottle.username == username))


def throttle_row(session: Session, username: str, now: datetime) -> SignInThrottle:
    """The username's throttle row, created if absent, locked for this transaction."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(SignInThrottle)
        .values(username=username, failures=[], updated_at=now)
        .on_conflict_do_nothing(index_elements=["username"])
    )
    row = session.scalar(
        select(SignInThrottle)
        .where(SignInThrottle.username == username)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


def by_username_for_update(session: Session, username: str) -> Account | None:
    """The account with this username, locked for the transaction."""
    return session.scalar(select(Account).where(Account.username == username).with_for_update())


def forget(session: Session, *, throttled_before: datetime, now: datetime, ended_before: datetime) -> None:
    """Delete throttle rows last changed before `throttled_before` and not locked at `now`,
    and sessions that ended or expired before `ended_before`."""
    session.execute(
        delete(SignInThrottle).where(
            SignInThrottle.updated_at < throttled_before,
            or_(SignInThrottle.locked_until.is_(None), SignInThrottle.locked_until < now),
        )
    )
    session.execute(
        delete(UserSession).where(
            or_(
                and_(UserSession.ended_at.is_not(None), UserSession.ended_at < ended_before),
                UserSession.expires_at < ended_before,
            )
        )
    )
