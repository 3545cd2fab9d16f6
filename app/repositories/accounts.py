"""Account and API key queries: people's accounts (by id, username or invitation link),
their sessions, and the keys client systems use."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Account, ApiKey, UserSession


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
