"""What the `hotline` command checks before it touches a database, and the one-line
errors it gives a person instead of a traceback.

- Settings that do not validate name the variable and what to do, never its value
  (an admin key must not reach a terminal or a log).
- A database URL is shown with its password hidden and, for SQLite, as the absolute
  file it resolves to from this folder.
- Only `migrate` and `serve` create a database. Every other command refuses one
  without the service's schema, so that a command run from another folder does not
  quietly create and use an empty database there.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from app.config import Settings, get_settings


class SetupError(Exception):
    """A problem a person fixes in the environment; its message is one line, no secret."""


def settings() -> Settings:
    """The settings, or a SetupError naming each bad variable and what it must be."""
    try:
        return get_settings()
    except ValidationError as exc:
        raise SetupError("; ".join(_problem(e) for e in exc.errors())) from None


def _problem(error: ErrorDetails) -> str:
    # Only the variable and the rule: pydantic's own text would echo the value.
    loc = error["loc"] or ("setting",)
    return f"{loc[-1]}: {error['msg'].removeprefix('Value error, ')}"


def describe(url: str) -> str:
    """The URL as safe to print: password hidden; a SQLite file as its absolute path."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "(an unparsable DATABASE_URL)"
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        return f"sqlite:///{path}" if path is not None else "sqlite (in memory)"
    return parsed.render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    """The absolute file of a SQLite URL (relative paths count from this folder)."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database).expanduser().resolve()


def require_schema(url: str) -> None:
    """Refuse a database that does not exist or has no schema of this service."""
    where = describe(url)
    if make_url(url).get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None and not path.exists():
            raise SetupError(
                f"no database at {where} (DATABASE_URL is "
                f"{'unset' if url == Settings.model_fields['database_url'].default else 'set'}; "
                "a relative SQLite path counts from this folder): run this command in the "
                "folder where you ran `hotline serve`, set DATABASE_URL, or create the "
                "database with `hotline migrate`"
            )
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            has_schema = inspect(conn).has_table("alembic_version")
    except SQLAlchemyError as exc:
        raise unreachable(url, exc) from None
    finally:
        engine.dispose()
    if not has_schema:
        raise SetupError(
            f"the database at {where} has no hotline schema: create it with "
            "`hotline migrate` (or `hotline serve`), or point DATABASE_URL at the "
            "service's database"
        )


def unreachable(url: str, exc: BaseException) -> SetupError:
    """A one-line SetupError for a database that cannot be opened."""
    where = describe(url)
    if isinstance(exc, NoSuchModuleError | ArgumentError):
        return SetupError(
            f"DATABASE_URL is not a database URL this service can use ({where}): "
            "use sqlite:///path/to/hotline.db or "
            "postgresql+psycopg://user:password@host:5432/dbname"
        )
    if isinstance(exc, OperationalError):
        reason = (str(exc.orig or exc).strip().splitlines() or [""])[0][:200]
        password = make_url(url).password
        if password:
            reason = reason.replace(str(password), "***")
        return SetupError(
            f"cannot open the database at {where}: {reason}; check "
            "DATABASE_URL and that the database server is running"
        )
    return SetupError(f"the database at {where} failed: {type(exc).__name__}")
