"""None of the release's text is in the repository: every tracked file is scanned for any 80-character run of
the authors' prompts (the judge prompt, the case generator, its gates and definitions) and of the cases' queries."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT

RUN = 80


def _release() -> Path:
    source = Path(os.environ.get("BR_DATA_SOURCE") or ROOT.parent / "shared" / "blind-refusal")
    root = source.parent if source.name == "data" else source
    if not (root / "prompts").is_dir():
        pytest.skip("the release's prompts/ folder is not on this machine (BR_DATA_SOURCE)")
    return root


def _normal(text: str) -> str:
    return " ".join(text.split())


def _runs(text: str) -> set[str]:
    """Every 80-character window of the text (whitespace collapsed, so re-wrapping hides nothing)."""
    text = _normal(text)
    return {text[i:i + RUN] for i in range(0, max(0, len(text) - RUN) + 1)}


def _first_hit(body: str, windows: set[str]) -> str | None:
    return next((body[i:i + RUN] for i in range(0, max(0, len(body) - RUN) + 1) if body[i:i + RUN] in windows), None)


def test_no_tracked_file_holds_an_80_character_run_of_the_release():
    root = _release()
    windows: set[str] = set()
    for prompt in (root / "prompts").rglob("*.md"):
        windows |= _runs(prompt.read_text(encoding="utf-8", errors="replace"))
    for cases in sorted((root / "data" / "2_filtered").glob("*.json")):
        try:
            rows = json.loads(cases.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            continue
        rows = rows.get("cases", []) if isinstance(rows, dict) else rows
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and isinstance(row.get("user_query"), str):
                windows |= _runs(row["user_query"])
    assert len(windows) > 500_000, f"only {len(windows):,} windows: too little release text to be a scan"
    planted = _normal((root / "prompts" / "generate.md").read_text(encoding="utf-8"))[1000:1081]
    assert _first_hit(f"our own words, then {planted} and more", windows)  # the scan catches a copied run
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    found = []
    for name in filter(None, tracked):
        path = ROOT / name.decode()
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        try:
            body = _normal(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            continue
        hit = _first_hit(body, windows)
        if hit:
            found.append(f"{name.decode()}: {hit!r}")
    assert not found, found[:5]
