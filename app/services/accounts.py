"""People's accounts: creation, one-time invitation links, passwords, disabling.

Admin creates accounts of every role; the liaison committee creates (and looks after)
`deputy` and `station` accounts. A new account, and any later reset, gets a one-time
invitation link valid 7 days where the person chooses a password; a new link ends the
old link, the password and every session. Only hashes of links and passwords are kept.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.models import Account, AccountEvent
from app.repositories import accounts as repo
from app.repositories import registry
from app.services.context import Ctx
from app.services.passwords import hash_password, password_problem

ROLES = ("admin", "hotline", "liaison", "unit", "deputy", "station")
LIAISON_CREATES = ("deputy", "station")
INVITE_VALID = timedelta(days=7)
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@\-]{2,63}$")
INVITE_PATH = "/ui/invite/"


def normalize_username(raw: str) -> str:
    """Usernames are matched without regard to case or surrounding spaces."""
    return raw.strip().lower()


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits: a fast hash is enough (as for API keys).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_binding(
    session: Session, *, role: str, unit_code: str | None, deputy_id: str | None, station_code: str | None
) -> None:
    """A bound role names what it is bound to (which must exist); other roles name nothing.

    Shared by accounts and API keys: both act with the same roles."""
    needs = {"unit": "unit_code", "deputy": "deputy_id", "station": "station_code"}.get(role)
    given = {"unit_code": unit_code, "deputy_id": deputy_id, "station_code": station_code}
    for name, value in given.items():
        if value and name != needs:
            raise Invalid(name, f"only a {_role_of(name)} is bound to a {_thing(name)}")
    if needs is None:
        return
    value = given[needs]
    if not value:
        raise Invalid(needs, f"a {role} account or key must name its {_thing(needs)}")
    if needs == "unit_code" and registry.get_unit(session, value) is None:
        raise Invalid("unit_code", f"unknown unit {value!r}")
    if needs == "deputy_id" and registry.get_deputy(session, value) is None:
        raise Invalid("deputy_id", f"unknown deputy {value!r}")
    if needs == "station_code" and registry.get_station(session, value) is None:
        raise Invalid("station_code", f"unknown station {value!r}")


def _role_of(field: str) -> str:
    return {"unit_code": "unit", "deputy_id": "deputy", "station_code": "station"}[field] + " account or key"


def _thing(field: str) -> str:
    return {"unit_code": "unit", "deputy_id": "deputy", "station_code": "station"}[field]


def may_manage(ctx: Ctx, role: str) -> bool:
    """Admin manages every account; the liaison committee, deputies' and stations'."""
    return ctx.actor.role == "admin" or (ctx.actor.role == "liaison" and role in LIAISON_CREATES)


def record(
    session: Session,
    *,
    account: Account | None,
    at: datetime,
    actor: str,
    type_: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Append to the account log."""
    session.add(
        AccountEvent(
            account_id=account.id if account else None, at=at, actor=actor, type=type_, data=data or {}
        )
    )


@dataclass
class AccountInput:
    username: str
    display_name: str
    role: str
    unit_code: str | None = None
    deputy_id: str | None = None
    station_code: str | None = None


def _invite_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + INVITE_PATH + token


def _new_invite(ctx: Ctx, account: Account) -> str:
    """A fresh one-time link; the old one, the password and every session stop working."""
    token = secrets.token_urlsafe(32)
    now = ctx.now()
    account.invite_hash = token_hash(token)
    account.invite_expires_at = now + INVITE_VALID
    account.password_hash = None
    account.password_set_at = None
    account.updated_at = now
    end_sessions(ctx.session, account.id, now, "reset")
    return token


def create_account(ctx: Ctx, data: AccountInput, *, base_url: str) -> tuple[Account, str]:
    """A new account and its invitation link (shown once)."""
    if data.role not in ROLES:
        raise Invalid("role", "must be one of " + ", ".join(ROLES))
    if not may_manage(ctx, data.role):
        raise Forbidden(f"the {ctx.actor.role} role may not create {data.role} accounts")
    username = normalize_username(data.username)
    if not USERNAME.fullmatch(username):
        raise Invalid(
            "username", "3 to 64 characters: letters, digits and . _ @ -, starting with a letter or digit"
        )
    check_binding(
        ctx.session,
        role=data.role,
        unit_code=data.unit_code,
        deputy_id=data.deputy_id,
        station_code=data.station_code,
    )
    if repo.id_by_username(ctx.session, username):
        raise Conflict(f"the username {username} is taken")
    now = ctx.now()
    account = Account(
        username=username,
        display_name=data.display_name.strip(),
        role=data.role,
        unit_code=data.unit_code,
        deputy_id=data.deputy_id,
        station_code=data.station_code,
        created_by=ctx.actor.name,
        created_at=now,
        updated_at=now,
    )
    try:
        with ctx.session.begin_nested():
            ctx.session.add(account)
            ctx.session.flush()
    except IntegrityError:
        raise Conflict(f"the username {username} is taken") from None
    token = _new_invite(ctx, account)
    record(
        ctx.session,
        account=account,
        at=now,
        actor=ctx.actor.name,
        type_="account.created",
        data={
            "role": account.role,
            "unit": account.unit_code,
            "deputy_id": account.deputy_id,
            "station": account.station_code,
        },
    )
    return account, _invite_url(base_url, token)


def get_account(ctx: Ctx, account_id: str, *, for_update: bool = False) -> Account:
    """An account this actor manages; any other is not found."""
    account = repo.get(ctx.session, account_id, for_update=for_update)
    if account is None or not may_manage(ctx, account.role):
        raise NotFound(f"no account {account_id}")
    return account


def id_of(ctx: Ctx, username: str) -> str:
    """The id of the account with this username (any case), or NotFound."""
    found = repo.id_by_username(ctx.session, normalize_username(username))
    if found is None:
        raise NotFound(f"no account {normalize_username(username)}")
    return found


def list_accounts(ctx: Ctx, *, after: str | None = None, limit: int = 500) -> list[Account]:
    """The accounts this actor manages, by username."""
    roles = None if ctx.actor.role == "admin" else LIAISON_CREATES
    return repo.listed(ctx.session, roles=roles, after=after, limit=limit)


def reinvite(ctx: Ctx, account_id: str, *, base_url: str) -> tuple[Account, str]:
    """A new one-time link (a password reset): the old link and the password stop working."""
    account = get_account(ctx, account_id, for_update=True)
    token = _new_invite(ctx, account)
    record(ctx.session, account=account, at=ctx.now(), actor=ctx.actor.name, type_="account.invited")
    return account, _invite_url(base_url, token)


def disable(ctx: Ctx, account_id: str) -> Account:
    """The account can no longer sign in, and its sessions end at once."""
    account = get_account(ctx, account_id, for_update=True)
    if ctx.actor.username is not None and ctx.actor.username == account.username:
        raise Conflict("you cannot disable your own account")
    now = ctx.now()
    if account.disabled_at is None:
        account.disabled_at, account.updated_at = now, now
        record(ctx.session, account=account, at=now, actor=ctx.actor.name, type_="account.disabled")
    end_sessions(ctx.session, account.id, now, "disabled")
    return account


def enable(ctx: Ctx, account_id: str) -> Account:
    """Undo a disabling: the person signs in again with the password (or link) they had."""
    account = get_account(ctx, account_id, for_update=True)
    now = ctx.now()
    if account.disabled_at is not None:
        account.disabled_at, account.updated_at = None, now
        record(ctx.session, account=account, at=now, actor=ctx.actor.name, type_="account.enabled")
    return account


def end_sessions(session: Session, account_id: str, now: datetime, reason: str) -> None:
    """End every session of the account still open."""
    repo.end_sessions(session, account_id, now, reason)


def actor_names(session: Session, actors: Iterable[str]) -> dict[str, str]:
    """What the log's actor names stand for, for people to read: a person's name, a key's
    label (what no longer exists is left out)."""
    users = {a[len("user:") :] for a in actors if a.startswith("user:")}
    keys = {a[len("key:") :] for a in actors if a.startswith("key:")}
    out: dict[str, str] = {}
    if users:
        out.update({f"user:{u}": n for u, n in repo.display_names(session, users).items()})
    if keys:
        out.update({f"key:{i}": f"接口：{label}" for i, label in repo.key_labels(session, keys).items()})
    return out


# --- the invitation link, used by the person -------------------------------------------


def invited(session: Session, token: str, now: datetime) -> Account | None:
    """The account a link stands for, while it is valid (unused, unexpired, not disabled)."""
    if not token or len(token) > 200:
        return None
    account = repo.by_invite(session, token_hash(token))
    if (
        account is None
        or account.disabled_at is not None
        or account.invite_expires_at is None
        or account.invite_expires_at <= now
    ):
        return None
    return account


def check_new_password(account: Account, password: str, confirm: str) -> str:
    """The password to hash, or Invalid naming the field (checked before any write)."""
    problem = password_problem(password, username=account.username)
    if problem:
        raise Invalid("password", problem)
    if password != confirm:
        raise Invalid("confirm", "does not match the password")
    return password


def set_password(session: Session, *, token: str, password_hash: str, now: datetime) -> Account:
    """Use a link: the password (hashed beforehand, outside the transaction) is set and the
    link stops working. A link used or replaced meanwhile → NotFound."""
    account = repo.by_invite(session, token_hash(token), for_update=True)
    if (
        account is None
        or account.disabled_at is not None
        or account.invite_expires_at is None
        or account.invite_expires_at <= now
    ):
        raise NotFound("this invitation link is not valid")
    account.password_hash = password_hash
    account.password_set_at = now
    account.invite_hash = account.invite_expires_at = None
    account.updated_at = now
    record(session, account=account, at=now, actor=f"user:{account.username}", type_="account.password_set")
    return account


def new_password_hash(account: Account, password: str, confirm: str) -> str:
    """Check a new password against the rules and hash it (CPU only, no database)."""
    return hash_password(check_new_password(account, password, confirm))
