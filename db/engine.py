"""Engines and the store's schema: open a URL, upgrade it in place (Alembic), hand out write transactions.

The URL arrives as an argument: this package reads no configuration of its own. SQLite runs in WAL
mode with a busy timeout, and its write transactions take the write lock at BEGIN (IMMEDIATE), so two
writers queue instead of failing when one upgrades a read to a write.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import event, inspect, make_url, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from sqlmodel import create_engine

from db.precheck import MIGRATIONS
from vocabulary import BlindRefusalError

# A claimed run or job whose heartbeat is older than this was abandoned (its process died): another takes it over.
# BR_STALE_AFTER_S shortens it where a team wants faster takeover (and in the worker tests).
STALE_AFTER = timedelta(seconds=max(8.0, float(os.environ.get("BR_STALE_AFTER_S") or 90)))
_engines: dict[str, Engine] = {}
_lock = threading.Lock()
Say = Callable[[str], None]


class StoreError(BlindRefusalError):
    """The store cannot be opened or upgraded; the message is one line meant for the user."""


def _sqlite_connect(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # SQLAlchemy's begin event issues BEGIN itself (below)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_engine(url: str) -> Engine:
    """An engine for any SQLAlchemy URL; bad URLs and missing drivers become a StoreError."""
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError:
        raise StoreError(f"not a database URL: {url!r} (expected e.g. sqlite:///path.sqlite or "
                         "postgresql+psycopg://user@host/db)") from None
    try:
        if parsed.get_backend_name() == "sqlite":
            path = sqlite_path(url)
            if path is not None:
                if path.parent.exists() and not path.parent.is_dir():
                    raise StoreError(f"cannot create the store {path}: {path.parent} is not a folder")
                path.parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except (sa_exc.NoSuchModuleError, ModuleNotFoundError, ImportError) as exc:
        raise StoreError(f"no database driver for {parsed.drivername!r}: {exc}") from None
    except OSError as exc:
        raise StoreError(f"cannot create the store for {parsed.render_as_string(hide_password=True)}: {exc}") from None


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction (SQLite: BEGIN IMMEDIATE, so concurrent writers wait their turn)."""
    with engine.connect().execution_options(write=True) as conn:
        with conn.begin():
            yield conn


def _alembic_config(script_location: Path, conn: Connection | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def _current(conn: Connection) -> tuple[str | None, bool]:
    """(alembic revision or None, whether the store holds any table at all)."""
    from alembic.runtime.migration import MigrationContext

    tables = set(inspect(conn).get_table_names())
    return MigrationContext.configure(conn).get_current_revision(), bool(tables - {"alembic_version"})


def _backup_sqlite(engine: Engine, revision: str | None) -> Path | None:
    path = sqlite_path(str(engine.url))
    if path is None or not path.exists():
        return None
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    dst = path.with_name(f"{path.name}.backup-{revision or 'v2'}-{stamp}")
    src_conn, dst_conn = sqlite3.connect(path), sqlite3.connect(dst)
    try:
        src_conn.backup(dst_conn)  # consistent with the WAL, unlike a file copy
    finally:
        src_conn.close()
        dst_conn.close()
    return dst


def migrate(engine: Engine, say: Say | None = None, script_location: Path = MIGRATIONS) -> list[str]:
    """Upgrade the store to the newest revision in place, keeping every row; returns the revisions run.

    A store from before the migrations (schema_info version 1 or 2) is adopted by the baseline. An
    SQLite file is copied aside before any change. Two processes opening one new store at once are
    serialised (SQLite's write lock, PostgreSQL's advisory lock)."""
    from alembic import command
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(script_location))  # read the revision files once
    heads = set(script.get_heads())
    known = {s.revision for s in script.walk_revisions()}
    try:
        with engine.connect() as probe:
            current, populated = _current(probe)
    except sa_exc.DatabaseError as exc:
        raise StoreError(f"the store at {engine.url.render_as_string(hide_password=True)} cannot be read: "
                         f"{str(exc.orig).splitlines()[0]}") from None
    if current in heads:
        return []
    if current is not None and current not in known:
        raise StoreError(f"the store is at schema revision {current}, newer than this code knows: update the code")
    backup = _backup_sqlite(engine, current) if populated and is_sqlite(engine) else None
    with transaction(engine) as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(736172)"))
        before = _current(conn)[0]
        if before in heads:  # another process upgraded it while we waited
            return []
        _check_legacy_version(conn)
        command.upgrade(_alembic_config(script_location, conn), "head")
    done = {s.revision for s in script.iterate_revisions(before, "base")} if before else set()
    ran = sorted(known - done)
    if populated and say:
        where = f"; the old file is kept at {backup}" if backup else ""
        say(f"store upgraded in place from schema {before or 'v1/v2 (pre-migrations)'} to {max(heads)}{where}")
    return ran


def _check_legacy_version(conn: Connection) -> None:
    if "schema_info" not in inspect(conn).get_table_names() or "alembic_version" in inspect(conn).get_table_names():
        return
    row = conn.execute(text("SELECT value FROM schema_info WHERE key = 'schema_version'")).first()
    if row is not None and row[0] not in ("1", "2"):
        raise StoreError(f"the store has an unknown schema version {row[0]!r}; it was not changed")


def mark_interrupted_runs(engine: Engine) -> int:
    """Runs left `running` by a process that died (no heartbeat for STALE_AFTER) become `interrupted`."""
    from sqlalchemy import or_, update
    from sqlmodel import col

    from db.tables import Run, utcnow

    stale = or_(col(Run.heartbeat_at).is_(None), col(Run.heartbeat_at) < utcnow() - STALE_AFTER)
    with transaction(engine) as conn:
        return conn.execute(update(Run).where(col(Run.status) == "running", stale).values(
            status="interrupted", claimed_by=None)).rowcount


def open_store(url: str, say: Say | None = None) -> Engine:
    """An engine on an upgraded store, with abandoned runs marked. Raises StoreError with one line."""
    engine = make_engine(url)
    try:
        migrate(engine, say)
        mark_interrupted_runs(engine)
    except StoreError:
        engine.dispose()
        raise
    except (sa_exc.OperationalError, sa_exc.DatabaseError) as exc:
        engine.dispose()
        raise StoreError(f"the store at {engine.url.render_as_string(hide_password=True)} cannot be used: "
                         f"{str(getattr(exc, 'orig', exc)).splitlines()[0]}") from None
    return engine


def get_engine(url: str, say: Say | None = None) -> Engine:
    """One upgraded engine per URL per process."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = open_store(url, say)
            _engines[url] = engine
        return engine


def dispose_all() -> None:
    with _lock:
        for e in _engines.values():
            e.dispose()
        _engines.clear()


def process_id() -> str:
    """Who holds a claim: host-independent enough for one machine or one team's servers."""
    return f"{os.uname().nodename}:{os.getpid()}:{threading.get_ident()}"
