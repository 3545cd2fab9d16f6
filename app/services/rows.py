"""Plain rows inserted through the session's own connection, below the ORM.

Intake writes about ten rows a ticket. Through the unit of work (or even Core) every
statement costs 0.15-0.25 ms of Python here, several times what the database spends on it,
so the hot path sends pre-built INSERTs straight to the driver instead. The rows go out on
the session's connection, inside its transaction, with the same bind processing SQLAlchemy
applies (so what is stored is exactly what the ORM would have stored), and the ORM reads
them like any other row.

A new row is described one way, `row_of(Model, values)`; the code that reads it back in
the same request (views, queue, the response) gets an instance of the model holding that
row (`instance_of`), as it would get from a query.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, configure_mappers

from app.models.base import Base

M = TypeVar("M", bound=Base)


@dataclass(frozen=True)
class _Plan:
    columns: str
    placeholders: str
    processors: tuple[Callable[[Any], Any] | None, ...]


_plans: dict[tuple[str, str, tuple[str, ...]], _Plan] = {}


def _plan(dialect: Dialect, table: Table, keys: tuple[str, ...]) -> _Plan:
    cache_key = (dialect.name, table.name, keys)
    plan = _plans.get(cache_key)
    if plan is None:
        quote = dialect.identifier_preparer.quote
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        processors = []
        for key in keys:
            column = table.c[key]
            processors.append(column.type.dialect_impl(dialect).bind_processor(dialect))
        plan = _Plan(
            columns=", ".join(quote(k) for k in keys),
            placeholders="(" + ", ".join(mark for _ in keys) + ")",
            processors=tuple(processors),
        )
        _plans[cache_key] = plan
    return plan


def _params(plan: _Plan, keys: tuple[str, ...], row: dict[str, Any]) -> list[Any]:
    return [row[k] if p is None else p(row[k]) for k, p in zip(keys, plan.processors, strict=True)]


@dataclass(frozen=True)
class _Template:
    names: frozenset[str]
    plain: dict[str, Any]  # every column a row may carry, at its scalar default or None
    made: tuple[tuple[str, Callable[[], Any]], ...]  # columns whose default is made per row


_templates: dict[type[Base], _Template] = {}


def _template(entity: type[Base]) -> _Template:
    template = _templates.get(entity)
    if template is None:
        table = cast(Table, entity.__table__)
        plain: dict[str, Any] = {}
        made: list[tuple[str, Callable[[], Any]]] = []
        for column in table.columns:
            if column is table.autoincrement_column:
                continue  # the database numbers it
            default = column.default
            if default is None:
                plain[column.key] = None
            elif default.is_scalar:
                plain[column.key] = default.arg  # type: ignore[attr-defined]
            elif default.is_callable:
                plain[column.key] = None
                made.append((column.key, functools.partial(default.arg, None)))  # type: ignore[attr-defined]
            else:
                raise TypeError(f"{table.name}.{column.key}: a default insert_rows cannot make")
        template = _Template(frozenset(plain), plain, tuple(made))
        _templates[entity] = template
    return template


def row_of(entity: type[Base], values: dict[str, Any]) -> dict[str, Any]:
    """A whole row of the entity's table for `insert_rows`, derived from the model: `values`,
    and every other column as the ORM would write it (its default, else NULL). Every row of
    a table has the same keys in the same order; a key that is not a column is refused."""
    template = _template(entity)
    if not template.names.issuperset(values):
        raise KeyError(f"not columns of {entity.__name__}: {sorted(set(values) - template.names)}")
    row = {**template.plain, **values}
    for key, make in template.made:
        if key not in values:
            row[key] = make()
    return row


_makers: dict[type[Base], Callable[[], Any]] = {}


def instance_of(entity: type[M], row: dict[str, Any]) -> M:
    """An instance of the model holding a row just written by `insert_rows` (and, for a
    numbered table, its number), to be read like one loaded by a query.

    Built as the ORM builds the rows it loads: no constructor, no change history (the
    constructor's instrumented assignments cost 20-40 times as much: Ticket(**row) 79 us,
    this 1.8 us). It belongs to no session: a change goes through the stored row
    (`session.get`)."""
    make = _makers.get(entity)
    if make is None:
        configure_mappers()  # the attributes are instrumented by then (else at the first query)
        make = _makers[entity] = entity.__mapper__.class_manager.new_instance
    instance: M = make()
    vars(instance).update(row)  # the instance's state dict, as loading fills it
    return instance


def insert_rows(
    session: Session,
    entity: type[Base],
    rows: Sequence[dict[str, Any]],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert rows of a mapped class that all have the same keys; returns the `returning`
    columns per row, in an order the caller must not rely on (match them by their values)."""
    if not rows:
        return []
    table = cast(Table, entity.__table__)
    connection = session.connection()
    dialect = connection.dialect
    keys = tuple(rows[0])
    plan = _plan(dialect, table, keys)
    head = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({plan.columns}) VALUES "
    cursor = connection.connection.cursor()
    sql = head + plan.placeholders
    try:
        if not returning:
            cursor.executemany(sql, [_params(plan, keys, r) for r in rows])
            return []
        quote = dialect.identifier_preparer.quote
        sql = (
            head
            + ", ".join(plan.placeholders for _ in rows)
            + " RETURNING "
            + ", ".join(quote(c) for c in returning)
        )
        cursor.execute(sql, [v for r in rows for v in _params(plan, keys, r)])
        return [tuple(r) for r in cursor.fetchall()]
    except dialect.loaded_dbapi.Error as exc:
        # Wrapped as SQLAlchemy would, so callers catch IntegrityError and the like as usual.
        raise DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
    finally:
        cursor.close()


@contextmanager
def pipelined(session: Session) -> Iterator[None]:
    """On PostgreSQL, the statements sent inside go out without waiting for each other
    (psycopg's pipeline mode): their results come back together, at the first fetch or on
    leaving the block. Intake's rows are written in two round trips instead of five.

    Only `insert_rows` may run inside: an ORM or Core statement would try to read a result
    that has not arrived (SQLAlchemy then fails loudly). A database error surfaces where the
    results are read, wrapped as SQLAlchemy's; the transaction is then aborted."""
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        yield
        return
    try:
        with connection.connection.dbapi_connection.pipeline():  # type: ignore[union-attr]
            yield
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(None, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
