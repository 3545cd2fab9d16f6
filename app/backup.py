"""`hotline backup` and `hotline restore`: a consistent copy taken while the service writes.

SQLite: the online backup API copies the database in one step from a snapshot (in WAL mode
the service's writer is not held up), into a single self-contained file. PostgreSQL:
`pg_dump --format=custom` (a snapshot too) and `pg_restore`, whose major version must be
at least the server's. A restore goes into an empty database only: the operator points the
service at it afterwards, and the damaged one stays for the inquiry.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, pool, text
from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
_ENGINES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
PG_TOOL_TIMEOUT = 6 * 3600  # a city's database dumps in minutes; hours means something is stuck


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is one line for the operator."""


@dataclass(frozen=True)
class Summary:
    """What a backup holds (or a restore brought back)."""

    path: Path
    size: int
    revision: str | None
    tickets: int


def backup(url: str, dest: Path) -> Summary:
    """Write a consistent copy of the database at `url` to `dest` (replaced atomically)."""
    partial = dest.with_name(dest.name + ".partial")
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        if _is_sqlite(url):
            _sqlite_backup(_sqlite_file(url, must_exist=True), partial)
        else:
            _pg_backup(url, partial)
        partial.replace(dest)
    finally:
        partial.unlink(missing_ok=True)
    return _summary(dest)


def restore(url: str, src: Path) -> Summary:
    """Copy the backup `src` into the empty database at `url`."""
    kind = backup_kind(src)
    if _is_sqlite(url) != (kind == "sqlite"):
        engine_name = _ENGINES["sqlite" if _is_sqlite(url) else "postgresql"]
        raise BackupError(
            f"{src} is a {_ENGINES[kind]} backup but DATABASE_URL names a {engine_name} "
            "database: restore it into a database of its own kind"
        )
    _require_empty(url)
    if kind == "sqlite":
        _sqlite_restore(src, _sqlite_file(url, must_exist=False))
    else:
        _pg_restore(url, src)
    revision, tickets = _contents(url)
    return Summary(src, src.stat().st_size, revision, tickets)


def backup_kind(path: Path) -> str:
    """'sqlite' or 'postgresql', from the file's first bytes."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is neither a SQLite database nor a pg_dump custom-format archive")


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_file(url: str, *, must_exist: bool) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up or restore into")
    path = Path(database)
    if must_exist and not path.is_file():
        raise BackupError(f"no SQLite database at {path}")
    return path


def _sqlite_backup(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        # One step (pages=-1) reads one snapshot: stepwise copying would restart whenever
        # the service commits in between.
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        _check_sqlite(dst, target)


def _sqlite_restore(src: Path, target: Path) -> None:
    for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        if leftover.exists():
            raise BackupError(
                f"{leftover} is left from an earlier database: move it aside with the database it belonged to"
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(src)) as source:
        _check_sqlite(source, src)
        with contextlib.closing(sqlite3.connect(target, timeout=30)) as dst:
            source.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")


def _check_sqlite(conn: sqlite3.Connection, path: Path) -> None:
    result = conn.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"{path} fails SQLite's integrity check: {result}")


def _require_empty(url: str) -> None:
    if _is_sqlite(url) and not _sqlite_file(url, must_exist=False).exists():
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        names = inspect(engine).get_table_names()
    except Exception as exc:
        raise BackupError(f"cannot reach the database to restore into: {_one_line(exc)}") from None
    finally:
        engine.dispose()
    if names:
        raise BackupError(
            f"the database to restore into already has {len(names)} tables: "
            "restore into a new, empty database and point DATABASE_URL at it"
        )


def _summary(path: Path) -> Summary:
    if backup_kind(path) == "sqlite":
        revision, tickets = _contents(f"sqlite:///{path}")
    else:
        revision, tickets = None, -1
        listing = _run_pg("pg_restore", ["--list", str(path)], timeout=600).stdout
        if not re.search(r"TABLE DATA \S+ tickets ", listing):
            raise BackupError(f"{path} holds no tickets table: not a deputy-hotline database")
    return Summary(path, path.stat().st_size, revision, tickets)


def _contents(url: str) -> tuple[str | None, int]:
    """The migration and the number of tickets of a database."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            tickets = conn.execute(text("SELECT count(*) FROM tickets")).scalar_one()
    except Exception as exc:
        raise BackupError(f"not a deputy-hotline database: {_one_line(exc)}") from None
    finally:
        engine.dispose()
    return revision, int(tickets)


# --- PostgreSQL ----------------------------------------------------------------------------


def _pg_backup(url: str, target: Path) -> None:
    _check_pg_client("pg_dump", url)
    _run_pg(
        "pg_dump",
        ["--format=custom", "--compress=6", f"--file={target}", "--dbname", _libpq_uri(url)],
        url=url,
    )


def _pg_restore(url: str, src: Path) -> None:
    _check_pg_client("pg_restore", url)
    listing = _run_pg("pg_restore", ["--list", str(src)], timeout=600).stdout
    dumped_by = re.search(r"Dumped by pg_dump version: (\d+)", listing)
    restorer = _client_major("pg_restore")
    if dumped_by and int(dumped_by.group(1)) > restorer:
        raise BackupError(
            f"{src} was written by pg_dump {dumped_by.group(1)}; pg_restore "
            f"{restorer} cannot read it: install the client tools "
            f"{dumped_by.group(1)} or newer"
        )
    # One transaction: a restore that fails leaves the database empty, not half filled.
    _run_pg(
        "pg_restore",
        [
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            _libpq_uri(url),
            str(src),
        ],
        url=url,
    )


def _check_pg_client(tool: str, url: str) -> None:
    client = _client_major(tool)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            server = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    except Exception as exc:
        raise BackupError(f"cannot reach the database: {_one_line(exc)}") from None
    finally:
        engine.dispose()
    if client < server:
        raise BackupError(
            f"{tool} is version {client} but the server is PostgreSQL {server}: "
            f"install the client tools {server} (Debian: postgresql-client-{server})"
        )


def _client_major(tool: str) -> int:
    out = _run_pg(tool, ["--version"], timeout=30).stdout
    found = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
    if not found:
        raise BackupError(f"cannot tell the version of {tool} from {out.strip()!r}")
    return int(found.group(1))


def _run_pg(
    tool: str, args: list[str], *, url: str | None = None, timeout: float = PG_TOOL_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    path = shutil.which(tool)
    if path is None:
        raise BackupError(
            f"{tool} is not installed: install the PostgreSQL client tools of the "
            "server's major version (Debian: postgresql-client-NN)"
        )
    env = dict(os.environ)
    if url is not None:
        password = make_url(url).password
        if password is not None:  # through the environment: a command line shows in `ps`
            env["PGPASSWORD"] = str(password)
    try:
        done = subprocess.run(
            [path, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise BackupError(f"{tool} did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {_last_line(done.stderr) or f'exit {done.returncode}'}")
    return done


def _libpq_uri(url: str) -> str:
    """The SQLAlchemy URL as a libpq one, without its password (given in PGPASSWORD)."""
    u = make_url(url)
    plain = URL.create(
        "postgresql", username=u.username, host=u.host, port=u.port, database=u.database, query=u.query
    )
    return plain.render_as_string(hide_password=False)


def _last_line(text_: str) -> str:
    lines = [line.strip() for line in text_.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _one_line(exc: BaseException) -> str:
    return _last_line(str(exc).split("\n(Background")[0]) or type(exc).__name__
