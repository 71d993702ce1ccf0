"""Dependencies run one way — screens → core → store — and each label rule has one home.

Reads every module's imports (ast, so imports inside functions count too)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    """Top-level package names a module imports (relative imports resolved to their package)."""
    package = path.relative_to(ROOT).parts[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(package if node.level else (node.module or "").split(".")[0])
    return found


def _modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_the_store_imports_nothing_from_the_core():
    for path in _modules("db"):
        assert "blindrefusal" not in _imports(path), path


def test_only_the_store_module_of_the_core_wires_storage():
    wiring = ROOT / "blindrefusal" / "store.py"
    for path in _modules("blindrefusal"):
        storage = _imports(path) & {"db", "sqlalchemy", "sqlmodel", "alembic"}
        assert not storage or path == wiring, (path, storage)
    assert "db" in _imports(wiring)


def test_the_core_never_imports_streamlit():
    for path in _modules("blindrefusal"):
        assert "streamlit" not in _imports(path), path


def test_screens_reach_storage_and_models_only_through_the_core():
    for folder in ("app_pages", "components"):
        for path in _modules(folder):
            assert not _imports(path) & {"db", "sqlalchemy", "sqlmodel", "litellm"}, path
    assert not _imports(ROOT / "app.py") & {"db", "sqlalchemy", "sqlmodel", "litellm"}


def test_no_sql_outside_the_store():
    sql = re.compile(r"\b(SELECT\s+\S|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b")
    for folder in ("blindrefusal", "app_pages", "components"):
        for path in _modules(folder):
            assert not sql.search(path.read_text(encoding="utf-8")), path


def test_the_label_names_are_spelled_out_in_one_place():
    """The tuple of response types is written once, in vocabulary.py; everything else imports it."""
    literal = re.compile(r"""["']helps["'],\s*["']deflects["'],\s*["']hard_refusal["']""")
    offenders = [p for folder in ("blindrefusal", "app_pages", "components", "db") for p in _modules(folder)
                 if literal.search(p.read_text(encoding="utf-8")) and "migrations" not in p.parts]  # frozen history
    assert offenders == []
    assert "vocabulary" in _imports(ROOT / "db" / "writes.py") and "vocabulary" in _imports(ROOT / "db" / "queries.py")
