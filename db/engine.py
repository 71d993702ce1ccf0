"""Engine and sessions from BR_DATABASE_URL. SQLite runs in WAL mode with a busy timeout."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine, select

from blindrefusal.config import database_url

from .models import SCHEMA_VERSION, SchemaInfo

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


class SchemaMismatch(RuntimeError):
    pass


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def init_schema(engine: Engine) -> None:
    """Create missing tables and check that an existing store has this code's schema version."""
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        row = s.exec(select(SchemaInfo).where(SchemaInfo.key == "schema_version")).first()
        if row is None:
            s.add(SchemaInfo(key="schema_version", value=str(SCHEMA_VERSION)))
            s.commit()
        elif row.value != str(SCHEMA_VERSION):
            raise SchemaMismatch(
                f"The store at {engine.url!r} has schema version {row.value}, this code needs "
                f"{SCHEMA_VERSION}. Move the old file aside and run `python -m blindrefusal import-paper`."
            )
    with engine.begin() as conn:  # self-heal a missing or emptied rollup
        has_rollup = conn.execute(text("SELECT 1 FROM cell_count LIMIT 1")).first() is not None
        if not has_rollup and conn.execute(text(
                "SELECT 1 FROM response WHERE eff_response_type IS NOT NULL LIMIT 1")).first() is not None:
            from .writes import refresh_rollup

            refresh_rollup(conn)


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL per process, schema checked on first use."""
    url = url or database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url)
            init_schema(engine)
            _engines[url] = engine
        return engine


def dispose_all() -> None:
    with _lock:
        for e in _engines.values():
            e.dispose()
        _engines.clear()
