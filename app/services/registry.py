"""Use-cases of the registry: keys, units, categories, districts, deputies."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth import ROLES, generate_key, hash_key
from app.errors import Conflict, Invalid, NotFound
from app.models import ApiKey, Category, Deputy, District, Unit
from app.repositories import accounts as accounts_repo
from app.repositories import registry as repo
from app.services.context import Actor
from app.services.text import control_character
from app.webhooks.targets import registrable

DEPUTY_LEVELS = ("national", "provincial", "city", "county", "township")
_PHONE_JUNK = re.compile(r"[\s\-()]")


def normalize_phone(raw: str) -> str:
    """Digits only, without a +86/0086 country prefix, so that registry and caller match."""
    phone = _PHONE_JUNK.sub("", raw)
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix) and len(phone) > 11:
            phone = phone[len(prefix) :]
    return phone


def valid_phone(phone: str) -> bool:
    return phone.isdigit() and 5 <= len(phone) <= 20


# --- keys -------------------------------------------------------------------------------------


def create_key(
    session: Session,
    *,
    role: str,
    unit_code: str | None,
    label: str,
    now: datetime,
    deputy_id: str | None = None,
    station_code: str | None = None,
) -> tuple[ApiKey, str]:
    """Issue a key; the plain key is returned once and never stored."""
    from app.services.accounts import check_binding

    if role not in ROLES:
        raise Invalid("role", f"must be one of {', '.join(ROLES)}")
    check_binding(session, role=role, unit_code=unit_code, deputy_id=deputy_id, station_code=station_code)
    plain = generate_key()
    key = ApiKey(
        prefix=plain[:10],
        key_hash=hash_key(plain),
        role=role,
        unit_code=unit_code,
        deputy_id=deputy_id,
        station_code=station_code,
        label=label,
        created_at=now,
    )
    session.add(key)
    session.flush()
    return key, plain


def revoke_key(session: Session, *, key_id: str, now: datetime) -> None:
    key = accounts_repo.get_key(session, key_id)
    if key is None:
        raise NotFound(f"no key {key_id}")
    if key.revoked_at is None:
        key.revoked_at = now


def list_keys(session: Session) -> list[ApiKey]:
    return accounts_repo.keys(session)


def find_key(session: Session, key_hash: str) -> ApiKey | None:
    key = accounts_repo.key_by_hash(session, key_hash)
    return key if key is not None and key.revoked_at is None else None


# --- units and categories ---------------------------------------------------------------------


@dataclass
class UnitInput:
    name: str
    kind: str
    district: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None


def put_unit(
    session: Session, *, code: str, data: UnitInput, now: datetime, deny_private: bool = False
) -> tuple[Unit, bool]:
    """Create or replace a unit; True when created. With `deny_private`
    (HOTLINE_WEBHOOK_DENY_PRIVATE) a webhook target that is not globally routable is
    refused here, when it is registered, not only at each delivery."""
    problem = registrable(data.webhook_url, deny_private=deny_private)
    if problem is not None:
        raise Invalid("webhook_url", problem)
    unit = repo.get_unit(session, code)
    created = unit is None
    if unit is None:
        unit = Unit(code=code, created_at=now)
        session.add(unit)
    unit.name = data.name
    unit.kind = data.kind
    unit.district = data.district
    unit.webhook_url = data.webhook_url
    unit.webhook_secret = data.webhook_secret
    unit.updated_at = now
    session.flush()
    return unit, created


def get_unit(session: Session, code: str) -> Unit:
    unit = repo.get_unit(session, code)
    if unit is None:
        raise NotFound(f"no unit {code!r}")
    return unit


def list_units(session: Session) -> list[Unit]:
    return repo.units(session)


@dataclass
class CategoryInput:
    name: str
    default_lead_unit: str | None = None
    committee_unit: str | None = None
    coordinator_unit: str | None = None


def put_category(session: Session, *, code: str, data: CategoryInput, now: datetime) -> tuple[Category, bool]:
    """Create or replace a category; the units it names must exist and be of the right kind."""
    checks = (
        ("default_lead_unit", data.default_lead_unit, None),
        ("committee_unit", data.committee_unit, "special_committee"),
        ("coordinator_unit", data.coordinator_unit, "coordinator"),
    )
    for field_name, unit_code, kind in checks:
        if unit_code is None:
            continue
        unit = repo.get_unit(session, unit_code)
        if unit is None:
            raise Invalid(field_name, f"unknown unit {unit_code!r}")
        if kind is not None and unit.kind != kind:
            raise Invalid(field_name, f"unit {unit_code!r} is a {unit.kind}, not a {kind}")
    cat = repo.get_category(session, code)
    created = cat is None
    if cat is None:
        cat = Category(code=code, created_at=now)
        session.add(cat)
    cat.name = data.name
    cat.default_lead_unit = data.default_lead_unit
    cat.committee_unit = data.committee_unit
    cat.coordinator_unit = data.coordinator_unit
    cat.updated_at = now
    session.flush()
    return cat, created


def unit_names(session: Session, codes: Iterable[str | None]) -> dict[str, str]:
    """Chinese names of these units (codes not found are left out)."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    return repo.unit_names(session, wanted)


def category_names(session: Session, codes: Iterable[str | None]) -> dict[str, str]:
    """Chinese names of these categories (codes not found are left out)."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    return repo.category_names(session, wanted)


def list_categories(session: Session) -> list[Category]:
    return repo.categories(session)


def get_category(session: Session, code: str) -> Category:
    cat = repo.get_category(session, code)
    if cat is None:
        raise NotFound(f"no category {code!r}")
    return cat


# --- districts --------------------------------------------------------------------------------


def put_district(session: Session, *, code: str, name: str, now: datetime) -> tuple[District, bool]:
    """Create or rename a district; True when created."""
    district = repo.get_district(session, code)
    created = district is None
    if district is None:
        district = District(code=code, created_at=now)
        session.add(district)
    district.name, district.updated_at = name, now
    session.flush()
    return district, created


def district_names(session: Session) -> dict[str, str]:
    """code -> Chinese name of every registered district."""
    return dict(repo.districts(session))


def list_districts(session: Session) -> list[District]:
    return repo.district_rows(session)


def get_district(session: Session, code: str) -> District:
    district = repo.get_district(session, code)
    if district is None:
        raise NotFound(f"no district {code!r}")
    return district


# --- deputies ---------------------------------------------------------------------------------


@dataclass
class DeputyInput:
    name: str
    phone: str
    level: str
    district: str | None = None
    delegation: str | None = None


def create_deputy(session: Session, *, data: DeputyInput, now: datetime) -> Deputy:
    """Register a deputy; a phone already registered is a conflict."""
    phone = normalize_phone(data.phone)
    if repo.deputy_id_by_phone(session, phone) is not None:
        raise Conflict(f"a deputy with phone {phone} is already registered")
    deputy = Deputy(
        name=data.name,
        phone=phone,
        level=data.level,
        district=data.district,
        delegation=data.delegation,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(deputy)
            session.flush()
    except IntegrityError:
        raise Conflict(f"a deputy with phone {phone} is already registered") from None
    return deputy


def get_deputy(session: Session, deputy_id: str) -> Deputy:
    deputy = repo.get_deputy(session, deputy_id)
    if deputy is None:
        raise NotFound(f"no deputy {deputy_id}")
    return deputy


def list_deputies(session: Session, *, phone: str | None, after: str | None, limit: int) -> list[Deputy]:
    return repo.deputies_page(
        session, phone=normalize_phone(phone) if phone else None, after=after, limit=limit
    )


def sees_webhook(actor: Actor, unit_code: str) -> bool:
    """A unit's webhook address names its systems (often an internal host): only the admin
    who configures it and the unit itself read it; others learn only that the unit has a
    secret set, not where its notices go."""
    return actor.role == "admin" or (actor.role == "unit" and actor.unit_code == unit_code)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)
    # The phones registered or confirmed, whose earlier calls are then linked.
    phones: list[str] = field(default_factory=list)


IMPORT_HEADER = ["name", "phone", "level", "district", "delegation"]
MAX_IMPORT_ERRORS = 1000


def _check_row(row: list[str]) -> DeputyInput | str:
    if len(row) != len(IMPORT_HEADER):
        return f"expected {len(IMPORT_HEADER)} fields, found {len(row)}"
    name, phone, level, district, delegation = (c.strip() for c in row)
    controls = [
        f"{field}: {problem}"
        for field, value in zip(IMPORT_HEADER, row, strict=True)
        if (problem := control_character(value)) is not None
    ]
    if controls:
        return "; ".join(controls)
    phone = normalize_phone(phone)
    problems = [
        problem
        for bad, problem in (
            (not name or len(name) > 100, "name: required, at most 100 characters"),
            (not valid_phone(phone), "phone: 5 to 20 digits"),
            (level not in DEPUTY_LEVELS, f"level: must be one of {', '.join(DEPUTY_LEVELS)}"),
            (len(district) > 64, "district: at most 64 characters"),
            (len(delegation) > 200, "delegation: at most 200 characters"),
        )
        if bad
    ]
    if problems:
        return "; ".join(problems)
    return DeputyInput(name, phone, level, district or None, delegation or None)


def import_deputies(session: Session, *, lines: Iterable[str], now: datetime) -> ImportResult:
    """Upsert deputies from CSV lines, by phone; bad lines are reported and skipped.

    `lines` are the text cut at line feeds only (ends kept): the csv module finds the
    records, so a quoted field may hold line breaks and a line separator such as U+2028
    stays inside its field. Works in batches so that a large file streams through with
    bounded memory. `line` in an error is the physical line the record ends on."""
    result = ImportResult()
    reader = csv.reader(_strip_bom(lines))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise Invalid("body", f"line 1: {exc}") from None
    if header is None or [h.strip().lower() for h in header] != IMPORT_HEADER:
        raise Invalid("body", "the first line must be the header " + ",".join(IMPORT_HEADER))
    batch: dict[str, tuple[int, DeputyInput]] = {}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a bare carriage return inside an unquoted field
            if len(result.errors) < MAX_IMPORT_ERRORS:
                result.errors.append({"line": reader.line_num, "detail": f"not CSV: {exc}"})
            continue
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        checked = _check_row(row)
        if isinstance(checked, str):
            if len(result.errors) < MAX_IMPORT_ERRORS:
                result.errors.append({"line": line, "detail": checked})
            continue
        if checked.phone in batch:
            _flush_import(session, batch, result, now)
        batch[checked.phone] = (line, checked)
        if len(batch) >= 500:
            _flush_import(session, batch, result, now)
    _flush_import(session, batch, result, now)
    return result


def _strip_bom(lines: Iterable[str]) -> Iterator[str]:
    first = True
    for line in lines:
        if first:
            line = line.lstrip("\ufeff")
            first = False
        yield line


def _flush_import(
    session: Session,
    batch: dict[str, tuple[int, DeputyInput]],
    result: ImportResult,
    now: datetime,
) -> None:
    if not batch:
        return
    existing = repo.deputies_by_phone(session, list(batch))
    result.phones.extend(batch)
    for phone, (_, data) in batch.items():
        deputy = existing.get(phone)
        if deputy is None:
            session.add(
                Deputy(
                    name=data.name,
                    phone=phone,
                    level=data.level,
                    district=data.district,
                    delegation=data.delegation,
                    created_at=now,
                    updated_at=now,
                )
            )
            result.created += 1
        else:
            deputy.name, deputy.level = data.name, data.level
            deputy.district, deputy.delegation = data.district, data.delegation
            deputy.updated_at = now
            result.updated += 1
    session.flush()
    session.expunge_all()
    batch.clear()
