"""The layout holds: dependencies run one way — screens → core → store —, the core's stages import only the
stages below them, each label rule has one home, and no module or function outgrows a reader.

Reads every module's imports with ast, so imports inside functions count too."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.support import ROOT

# What each stage of the core may import (besides itself, the standard library and third-party packages).
# `store` is the one door to db/; `config` reads the environment; `identity` is who a visitor is and what their
# role allows. A stage never imports one above it.
STAGE_IMPORTS = {
    "config": set(),
    "identity": {"config"},
    "store": {"config", "models"},
    "models": {"config", "store"},  # the spending guard keeps its ledger in the store
    "analysis": {"config", "store"},
    "paper": {"config", "store", "models", "analysis"},
    "judges": {"config", "store", "models", "paper", "analysis"},
    "runs": {"config", "store", "models", "paper", "judges", "analysis"},
    "exports": {"config", "models", "analysis"},
    "evals": {"config", "store", "models", "paper", "judges", "runs", "analysis", "exports"},
    "jobs": {"config", "store", "models", "paper", "judges", "runs", "evals", "analysis"},
    "cli": {"config", "store", "models", "paper", "judges", "runs", "evals", "analysis", "exports", "jobs"},
    "stats": {"analysis"},  # the public alias `blindrefusal.stats`
}
MAX_MODULE_LINES, MAX_FUNCTION_LINES, MAX_TOP_LEVEL_MODULES = 300, 60, 8


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


def _core_stages_imported(path: Path) -> set[str]:
    """The core's stages (subpackages or top-level modules of blindrefusal/) that a module imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "blindrefusal":
            names = [node.module] if node.module != "blindrefusal" else [f"blindrefusal.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.split(".")[0] == "blindrefusal"]
        found.update(n.split(".")[1] for n in names if "." in n)
    core = ROOT / "blindrefusal"
    return {s for s in found if (core / s).is_dir() or (core / f"{s}.py").is_file()}  # not PAPER_CITATION


def _modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _stage_of(path: Path) -> str:
    parts = path.relative_to(ROOT / "blindrefusal").parts
    return parts[0] if len(parts) > 1 else path.stem


def _product_modules() -> list[Path]:
    paths = [ROOT / "app.py", ROOT / "vocabulary.py"]
    for folder in ("blindrefusal", "components", "app_pages", "db"):
        paths += [p for p in _modules(folder) if "migrations" not in p.parts]
    return paths


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


def test_each_stage_of_the_core_imports_only_the_stages_below_it():
    for path in _modules("blindrefusal"):
        stage = _stage_of(path)
        if stage in ("__init__", "__main__"):
            continue
        assert stage in STAGE_IMPORTS, f"{path}: a new stage needs its row in STAGE_IMPORTS"
        above = _core_stages_imported(path) - STAGE_IMPORTS[stage] - {stage}
        assert not above, (path, above)


def test_the_package_docstring_draws_the_stages_in_dependency_order():
    """blindrefusal/__init__'s drawing: each stage imports only stages to its left, and no library a stage."""
    import re

    import blindrefusal

    doc = blindrefusal.__doc__ or ""
    stages = re.findall(r"(\w+)/", re.search(r"stages:(.*)", doc).group(1))
    libraries = re.findall(r"(\w+)/", re.search(r"libraries:(.*)", doc).group(1))
    assert stages == ["paper", "judges", "runs", "evals", "jobs"]
    assert set(libraries) == {"analysis", "models", "exports"}
    for i, stage in enumerate(stages):
        assert not STAGE_IMPORTS[stage] & set(stages[i + 1:]), stage
    for library in libraries:
        assert not STAGE_IMPORTS[library] & set(stages), library
    assert libraries.index("exports") > max(libraries.index("analysis"), libraries.index("models"))


def test_runs_never_import_evaluations_and_analysis_never_imports_models_or_runs():
    for path in _modules("blindrefusal/runs"):
        assert "evals" not in _core_stages_imported(path), path
    for path in _modules("blindrefusal/analysis"):
        assert not _core_stages_imported(path) & {"models", "runs"}, path


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
    assert "vocabulary" in _imports(ROOT / "db" / "writes.py") \
        and "vocabulary" in _imports(ROOT / "db" / "read_store.py")


def test_the_label_colours_and_display_names_are_defined_once():
    """Each label's colour and its display name ("hard refusal") live in exports/style.py; pages, figures and
    reports read them from there."""
    from blindrefusal.exports.style import OUTCOME_STYLES

    home = ROOT / "blindrefusal" / "exports" / "style.py"
    colours = {s.color.lower() for s in OUTCOME_STYLES.values()}
    for path in _product_modules():
        if path == home:
            continue
        text = path.read_text(encoding="utf-8").lower()
        assert not [c for c in colours if c in text], path
        assert '"hard refusal"' not in text and "'hard refusal'" not in text, path


def test_no_module_or_function_outgrows_a_reader():
    top_level = [p.name for p in (ROOT / "blindrefusal").glob("*.py")]  # the rest lives in the stages' folders
    assert len(top_level) <= MAX_TOP_LEVEL_MODULES, sorted(top_level)
    for path in _product_modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) <= MAX_MODULE_LINES, (path, len(lines))
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                assert length <= MAX_FUNCTION_LINES, (path, node.name, length)


def test_every_stage_says_what_it_owns():
    for init in (ROOT / "blindrefusal").rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc) > 40 and "TODO" not in doc, init


def test_the_store_s_names_are_visible_to_mypy(tmp_path):
    """The store loads db/ lazily, yet its names are typed: a misspelt or mis-called store function is a type error
    (before, every routed name was Any to mypy)."""
    import subprocess
    import sys

    probe = tmp_path / "probe.py"
    probe.write_text("from blindrefusal import store\n\nstore.get_runn(1)\nstore.get_run(1)\n"
                     "reveal_type(store.get_run)\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), str(probe)],
                         cwd=ROOT, capture_output=True, text=True, env={**__import__("os").environ,
                                                                          "MYPYPATH": str(ROOT)}, timeout=600)
    assert 'Module has no attribute "get_runn"' in out.stdout, out.stdout
    assert "Missing positional argument" in out.stdout and "RunRecord" in out.stdout, out.stdout
