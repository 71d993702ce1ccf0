"""Shared fixtures: temporary stores, a synthetic release in the upstream layout, the paper store
(when BR_DATA_SOURCE is set), the fault server, and the real local model server."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from tests.support.release_fixture import write_fixture_release  # noqa: E402


def _engine(url: str):
    from db.engine import get_engine

    return get_engine(url)


@pytest.fixture
def store_url(tmp_path, monkeypatch) -> str:
    """A fresh SQLite store, also set as BR_DATABASE_URL for code that reads the environment."""
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
    from blindrefusal.importer import import_paper

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
    from blindrefusal.importer import import_paper
    from db.engine import make_engine, init_schema

    path = tmp_path_factory.mktemp("paper") / "paper.sqlite"
    eng = make_engine(f"sqlite:///{path}")
    init_schema(eng)
    import_paper(paper_source, engine=eng)
    eng.dispose()
    return path


@pytest.fixture
def paper_store_url(paper_store_path, tmp_path, monkeypatch) -> str:
    """A private copy of the imported paper store (tests may write to it)."""
    dst = tmp_path / "paper_copy.sqlite"
    shutil.copy(paper_store_path, dst)
    url = f"sqlite:///{dst}"
    monkeypatch.setenv("BR_DATABASE_URL", url)
    return url


@pytest.fixture(scope="session")
def fault_server():
    from tests.support.fault_server import RunningFaultServer

    with RunningFaultServer() as srv:
        yield srv


@pytest.fixture(scope="session")
def local_model_url():
    """The real SmolLM2 server (llama-cpp-python), shared by the whole session."""
    from blindrefusal.local_model import LocalModelError, LocalModelServer

    server = LocalModelServer()
    try:
        base = server.start()
    except LocalModelError as exc:
        pytest.fail(f"the local model must work on every machine `make` sets up: {exc}")
    os.environ["BR_LOCAL_MODEL_URL"] = base
    yield base
    os.environ.pop("BR_LOCAL_MODEL_URL", None)
    server.stop()
