"""Throwaway PostgreSQL databases for tests and benchmarks, through an admin URL (see postgres.sh)."""

from __future__ import annotations

import uuid


def admin_sql(admin_url: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


def database_url(admin_url: str, database: str) -> str:
    from sqlalchemy import make_url

    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


def new_database(admin_url: str, template: str | None = None) -> str:
    """A fresh database (a copy of `template`, if given); returns its name."""
    name = f"br_test_{uuid.uuid4().hex[:12]}"
    admin_sql(admin_url, f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    return name


def drop_database(admin_url: str, name: str) -> None:
    from db.engine import dispose_all

    dispose_all()  # our own pooled connections first; FORCE ends anyone else's
    admin_sql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
