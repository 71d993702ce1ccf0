"""Schema upgrades keep every run and label: a real pre-migration store, the path to the next change,
and the order of things (the store is checked before any model is called)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from tests.support import ROOT

# A schema-version-2 store (the schema before migrations) written by the project's own code at commit 947927a,
# from a worktree of that commit: the synthetic fixture release (tests/support/release_fixture.py, no paper
# text), 3 live runs, a spot-check with a failed answer, and 8 human labels.
V2_STORE = ROOT / "tests" / "support" / "store_v2.sqlite"


def _v2_store(path: Path) -> Path:
    shutil.copy(V2_STORE, path)
    return path


def _rows(url_or_path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(url_or_path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


KEPT = {  # what the old store holds, table by table: every row must survive the upgrade
    "case": 'SELECT key, rule, user_query FROM "case" ORDER BY key',
    "run": "SELECT id, kind, label, params, status FROM run ORDER BY id",
    "response": "SELECT id, run_id, case_id, model_config_id, text, status, error FROM response ORDER BY id",
    "judgment": "SELECT id, response_id, judge, response_type, engages_with_defeat, independent_harm, note "
                "FROM judgment ORDER BY id",
    "labels": "SELECT id, eff_response_type, eff_engages, eff_harm, eff_judge FROM response ORDER BY id",
}


def test_a_store_from_before_migrations_is_upgraded_in_place_with_a_backup(tmp_path, capsys):
    from blindrefusal import store as q
    from blindrefusal.analysis.rates import store_stats
    from db.engine import open_store

    path = _v2_store(tmp_path / "old.sqlite")
    before = {name: _rows(path, sql) for name, sql in KEPT.items()}
    assert len(before["run"]) == 5 and sum(1 for j in before["judgment"] if j[2].startswith("human:")) == 8
    messages: list[str] = []
    engine = open_store(f"sqlite:///{path}", say=messages.append)
    try:
        assert len(messages) == 1 and "upgraded" in messages[0]
        backup = Path(messages[0].rsplit(" at ", 1)[1])
        assert backup.is_file() and {n: _rows(backup, s) for n, s in KEPT.items()} == before  # the old file, kept
        after = {name: _rows(path, sql) for name, sql in KEPT.items()}
        assert after == before  # every case, run, answer, judgment and effective label
        columns = {c["name"] for c in inspect(engine).get_columns("cell_count")}
        assert {"hard_refusal", "refused_engaged"} <= columns and not {"hard", "refeng"} & columns
        # the rebuilt rollup agrees with the labels, so the pages show the same numbers as before
        live = q.totals(engine, q.Filters(sources=["live"]))
        assert live["defeated"].n + live["control"].n == 3
        assert store_stats(engine)["responses"] == 18 - 1  # the fixture's one failed paper answer has no label
        human = [r for r in q.responses_for(engine) if (r["eff_judge"] or "").startswith("human:")]
        assert len(human) == 8
        assert q.get_run(engine, 5)["kind"] == "spot_check"
    finally:
        engine.dispose()
    again: list[str] = []
    open_store(f"sqlite:///{path}", say=again.append).dispose()
    assert again == []  # upgraded once; the second open changes nothing and says nothing


def test_every_cli_command_upgrades_the_old_store_and_says_so(tmp_path):
    path = _v2_store(tmp_path / "old.sqlite")
    env = {"BR_DATABASE_URL": f"sqlite:///{path}", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "blindrefusal", "stats", "--json"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "Traceback" not in out.stderr
    assert "upgraded" in out.stderr and '"responses": 17' in out.stdout


def test_the_next_schema_change_goes_through_the_same_path(store_url, tmp_path):
    """A throwaway revision adding a nullable column: applied on open, data kept, on every backend."""
    from blindrefusal.paper.importer import import_paper
    from db.engine import MIGRATIONS, migrate, open_store
    from tests.support.release_fixture import write_fixture_release

    engine = open_store(store_url)
    import_paper(str(write_fixture_release(tmp_path / "rel")), engine=engine)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT COUNT(*), COUNT(eff_response_type) FROM response")).one()
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    heads = sorted(p.name for p in (scripts / "versions").glob("0*.py"))
    (scripts / "versions" / "9999_throwaway.py").write_text(
        '"""A throwaway change: a nullable note on runs."""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = '9999'\ndown_revision = {heads[-1].split('_')[0]!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade():\n    with op.batch_alter_table('run') as batch:\n"
        "        batch.add_column(sa.Column('throwaway_note', sa.String(), nullable=True))\n\n\n"
        "def downgrade():\n    pass\n")
    said: list[str] = []
    assert migrate(engine, said.append, script_location=scripts) == ["9999"]
    assert said and "9999" in said[0]
    with engine.connect() as conn:
        assert "throwaway_note" in {c["name"] for c in inspect(conn).get_columns("run")}
        assert conn.execute(text("SELECT COUNT(*), COUNT(eff_response_type) FROM response")).one() == before
    assert migrate(engine, said.append, script_location=scripts) == []  # idempotent
    engine.dispose()


def test_a_store_newer_than_the_code_is_refused_untouched(tmp_path):
    from db.engine import StoreError, open_store

    path = tmp_path / "new.sqlite"
    open_store(f"sqlite:///{path}").dispose()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = 'from_the_future'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer than this code"):
        open_store(f"sqlite:///{path}")
    assert _rows(path, "SELECT version_num FROM alembic_version") == [("from_the_future",)]


def test_ask_checks_the_store_before_calling_any_model(tmp_path, fault_server):
    """A store that cannot be opened fails the command before the (possibly paid) model is asked."""
    bad = tmp_path / "not_a_db.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    scenario = tmp_path / "s.json"
    scenario.write_text('{"authority_type": "workplace", "defeat_family": "control", "rule": "r", '
                        '"user_query": "q?"}')
    env = {"BR_DATABASE_URL": f"sqlite:///{bad}", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    name = f"never-{tmp_path.name[-8:]}"
    out = subprocess.run([sys.executable, "-m", "blindrefusal", "ask", "--scenario", str(scenario), "--model",
                          f"openai/{name}", "--api-base", fault_server.api_base], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "cannot be read" in out.stderr
    assert fault_server.requests_for(name) == []


def test_the_cold_ask_precheck_agrees_with_alembic(tmp_path):
    """`ask` skips opening the store up front only when the standard-library check says it is current: that check
    must name Alembic's head and say no to every store the full open would upgrade or refuse."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from db.engine import MIGRATIONS, open_store
    from db.precheck import head_revision, is_current_sqlite

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()

    current = tmp_path / "current.sqlite"
    open_store(f"sqlite:///{current}").dispose()
    assert is_current_sqlite(f"sqlite:///{current}") and is_current_sqlite(f"sqlite+pysqlite:///{current}")
    newer = tmp_path / "newer.sqlite"
    shutil.copy(current, newer)
    conn = sqlite3.connect(newer)
    conn.execute("UPDATE alembic_version SET version_num = 'from_the_future'")
    conn.commit()
    conn.close()
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database" * 100)
    read_only = tmp_path / "read_only.sqlite"
    shutil.copy(current, read_only)
    read_only.chmod(0o444)
    not_current = [_v2_store(tmp_path / "old.sqlite"), newer, garbage, tmp_path / "missing.sqlite", tmp_path]
    if os.geteuid() != 0:  # root may write a read-only file
        not_current.append(read_only)
    for path in not_current:
        assert not is_current_sqlite(f"sqlite:///{path}"), path
    assert not (tmp_path / "missing.sqlite").exists()  # looking did not create it
    for url in ("sqlite://", "sqlite:///:memory:", f"sqlite:///{current}?mode=ro",
                "postgresql+psycopg://u@127.0.0.1:1/db"):
        assert not is_current_sqlite(url), url


def test_a_cold_ask_on_an_old_store_upgrades_it_first(tmp_path, fault_server):
    path = _v2_store(tmp_path / "old.sqlite")
    scenario = tmp_path / "s.json"
    scenario.write_text('{"authority_type": "workplace", "defeat_family": "control", "rule": "r", '
                        '"user_query": "q?"}')
    env = {"BR_DATABASE_URL": f"sqlite:///{path}", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "BR_JUDGE_MODEL": "distilled"}
    cmd = [sys.executable, "-m", "blindrefusal", "ask", "--scenario", str(scenario), "--model", "openai/cold-old",
           "--api-base", fault_server.api_base, "--json"]
    first = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0 and "Traceback" not in first.stderr, first.stderr
    said = first.stderr.splitlines()
    assert "upgraded" in said[0] and said[-1].startswith("stored as run ")  # upgraded before anything was asked
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "upgraded" not in again.stderr  # now current: opened during the calls
    assert _rows(path, "SELECT COUNT(*) FROM run WHERE kind = 'live'") == [(3 + 2,)]
