"""Alembic environment. db.engine.migrate passes an open connection; the alembic command line uses the URL."""

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from db import tables  # noqa: F401 - registers the tables on SQLModel.metadata

config = context.config
connection = config.attributes.get("connection")


def run(conn) -> None:
    # Batch mode lets SQLite alter tables by copying them; PostgreSQL alters in place.
    context.configure(connection=conn, target_metadata=SQLModel.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("db/alembic.ini names no sqlalchemy.url")
    with create_engine(url).begin() as conn:
        run(conn)
