"""Whether a SQLite store is ready as it stands, found with the standard library only (no SQLAlchemy, no
Alembic): a writable file whose schema is already this code's newest revision."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent / "migrations"  # Alembic's scripts (db.engine migrates with them)


def head_revision() -> str:
    """The newest migration: the files are numbered 0001_…, one chain (a test holds this to Alembic's head)."""
    return max(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def sqlite_file(url: str) -> Path | None:
    """The file of a plain SQLite URL; None for anything else (another backend, options, in memory). Narrower
    than db.engine.sqlite_path, which parses every SQLite URL with SQLAlchemy: what this says no to is opened
    in full."""
    match = re.fullmatch(r"sqlite(?:\+pysqlite)?:///([^?]+)", url)
    if match is None or match.group(1) == ":memory:":
        return None
    return Path(match.group(1))


def is_current_sqlite(url: str) -> bool:
    path = sqlite_file(url)
    if path is None or not path.is_file() or not os.access(path, os.R_OK | os.W_OK) \
            or not os.access(path.parent, os.W_OK):  # SQLite writes its journal beside the file
        return False
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=rw", uri=True, timeout=5)
        try:
            rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return rows == [(head_revision(),)]
