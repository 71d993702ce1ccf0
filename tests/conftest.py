"""Shared fixtures: temporary stores, a synthetic release in the upstream layout, the paper store
(when BR_DATA_SOURCE is set), the fault server, and the real local model server."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# No test may reach the developer's own store (db/blindrefusal.sqlite): code that reads the environment
# without a fixture's store gets an empty one of this session's instead.
_UNSET_STORE_DIR = tempfile.mkdtemp(prefix="br-tests-")
os.environ["BR_DATABASE_URL"] = "sqlite:///" + os.path.join(_UNSET_STORE_DIR, "unset.sqlite")
atexit.register(shutil.rmtree, _UNSET_STORE_DIR, True)

# Property tests: a developer's run searches new examples every time (and keeps what fails in .hypothesis/); CI
# (.ci/run sets HYPOTHESIS_PROFILE=ci) runs a fixed set, so that a clean clone's result does not depend on a draw.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, database=None)
_hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

from tests.support import postgres_admin  # noqa: E402
from tests.support.release_fixture import write_fixture_release  # noqa: E402


def _engine(url: str):
    from db.engine import get_engine

    return get_engine(url)


# Store-facing tests run on every backend here: SQLite always, PostgreSQL when BR_TEST_POSTGRES_URL points
# at a server whose user may create databases (.ci/run starts one; BR_REQUIRE_POSTGRES=1 makes it mandatory).
POSTGRES_ADMIN_URL = os.environ.get("BR_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_ADMIN_URL else [])
if os.environ.get("BR_REQUIRE_POSTGRES") == "1" and not POSTGRES_ADMIN_URL:
    raise pytest.UsageError("BR_REQUIRE_POSTGRES=1 but BR_TEST_POSTGRES_URL is not set")


def _pg_url(database: str) -> str:
    return postgres_admin.database_url(POSTGRES_ADMIN_URL, database)


def _new_pg_database(template: str | None = None) -> str:
    return postgres_admin.new_database(POSTGRES_ADMIN_URL, template)


def _drop_pg_database(name: str) -> None:
    postgres_admin.drop_database(POSTGRES_ADMIN_URL, name)


def pytest_collection_modifyitems(items):
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "postgresql" in params.values():
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def store_url(backend, tmp_path, monkeypatch):
    """A fresh store on each backend, also set as BR_DATABASE_URL for code that reads the environment."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
        monkeypatch.setenv("BR_DATABASE_URL", url)
        yield url
        return
    name = _new_pg_database()
    url = _pg_url(name)
    monkeypatch.setenv("BR_DATABASE_URL", url)
    yield url
    _drop_pg_database(name)


@pytest.fixture
def sqlite_store_url(tmp_path, monkeypatch) -> str:
    """A fresh SQLite store, for tests about the SQLite file itself."""
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    monkeypatch.setenv("BR_DATABASE_URL", url)
    return url


@pytest.fixture
def engine(store_url):
    return _engine(store_url)


@pytest.fixture
def fixture_release(tmp_path) -> Path:
    """A small release in the upstream layout, written by our own code (no release text)."""
    return write_fixture_release(tmp_path / "release")


@pytest.fixture
def fixture_store(store_url, fixture_release):
    from blindrefusal.paper.importer import import_paper

    eng = _engine(store_url)
    import_paper(str(fixture_release), engine=eng)
    return eng


@pytest.fixture(scope="session")
def paper_source() -> str:
    src = os.environ.get("BR_DATA_SOURCE")
    if not src or src.startswith("http") or not Path(src).exists():
        pytest.skip("BR_DATA_SOURCE is not set to a local copy of the release; .ci/run sets it")
    return src


@pytest.fixture(scope="session")
def paper_store_path(tmp_path_factory, paper_source) -> Path:
    """The full release imported once per test session into a template SQLite file."""
    from blindrefusal.paper.importer import import_paper
    from db.engine import open_store

    path = tmp_path_factory.mktemp("paper") / "paper.sqlite"
    eng = open_store(f"sqlite:///{path}")
    import_paper(paper_source, engine=eng)
    eng.dispose()
    return path


@pytest.fixture(scope="session")
def paper_pg_template(paper_source):
    """The full release imported once per test session into a PostgreSQL template database."""
    from blindrefusal.paper.importer import import_paper
    from db.engine import open_store

    name = _new_pg_database()
    eng = open_store(_pg_url(name))
    import_paper(paper_source, engine=eng)
    eng.dispose()
    yield name
    _drop_pg_database(name)


@pytest.fixture
def paper_store_url(backend, request, tmp_path, monkeypatch):
    """A private copy of the imported paper store on each backend (tests may write to it)."""
    if backend == "sqlite":
        dst = tmp_path / "paper_copy.sqlite"
        shutil.copy(request.getfixturevalue("paper_store_path"), dst)
        url = f"sqlite:///{dst}"
        monkeypatch.setenv("BR_DATABASE_URL", url)
        yield url
        return
    name = _new_pg_database(template=request.getfixturevalue("paper_pg_template"))
    url = _pg_url(name)
    monkeypatch.setenv("BR_DATABASE_URL", url)
    yield url
    _drop_pg_database(name)


@pytest.fixture(scope="session")
def fault_server():
    from tests.support.fault_server import RunningFaultServer

    with RunningFaultServer() as srv:
        yield srv


@pytest.fixture(scope="session")
def local_model_url():
    """The real SmolLM2 server (llama-cpp-python), shared by the whole session."""
    from blindrefusal.models.local_server import LocalModelError, LocalModelServer

    server = LocalModelServer()
    try:
        base = server.start()
    except LocalModelError as exc:
        pytest.fail(f"the local model must work on every machine `make` sets up: {exc}")
    os.environ["BR_LOCAL_MODEL_URL"] = base
    yield base
    os.environ.pop("BR_LOCAL_MODEL_URL", None)
    server.stop()
