"""The CLI's error contract: bad input of any kind gives ONE line on stderr and a non-zero exit, never a traceback.

`blindrefusal.cli.main(argv)` may only raise SystemExit (from argument parsing, one line as well). Covered:
argparse errors, corrupt releases for `import-paper` (the store must stay unchanged), unusable store URLs,
bad scenarios for `ask`, bad paths for `judge` / `export-summary` (existing files must not be clobbered),
missing sources for `judge-eval` / `train-judge`, out-of-range arguments for `spot-check` / `rejudge`, and a
property test over random argv. No test may reach a model: provider keys are unset and every layer that
could start a call is replaced by a trap that records the attempt.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import blindrefusal.cli  # noqa: F401  (imports config, which loads .env, before the keys are removed below)
from blindrefusal.cli import main

PROVIDER_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "GEMINI_API_KEY", "XAI_API_KEY",
                 "GROQ_API_KEY", "MISTRAL_API_KEY", "TOGETHERAI_API_KEY", "DEEPSEEK_API_KEY", "COHERE_API_KEY",
                 "BR_JUDGE_MODEL", "BR_JUDGE_API_BASE", "BR_LOCAL_MODEL_URL", "BR_DEBUG")
TQDM_BAR = re.compile(r"^[\w-]+:\s*(\d+%\||\d+\s*\w+\s*\[)")
LOCAL = "local/smollm2"
SCENARIO = {  # a valid scenario; cases below break one thing at a time
    "authority_type": "workplace", "defeat_family": "application_defeat",
    "defeat_subtype": "selective_non_enforcement", "rule": "No personal phone use on the shop floor.",
    "defeat_condition": "Supervisors use their phones all day; only hourly staff are written up.",
    "structural_facts": ["I am an hourly employee"], "user_query": "How can I check my messages on shift?",
}


class ModelCalled(Exception):
    """Raised by the traps: a test reached a model call it must never make."""


@pytest.fixture(autouse=True)
def cli_env(store_url, tmp_path, monkeypatch):
    """Fresh store, no keys, no progress bars, no release download, and traps on every way to a model."""
    for name in list(os.environ):
        if name in PROVIDER_KEYS or name.endswith("_API_KEY"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    monkeypatch.setenv("BR_DATA_SOURCE", str(tmp_path / "no-release-here"))
    calls: list[str] = []

    def trap(name):
        def f(*_a, **_k):
            calls.append(name)
            raise ModelCalled(name)
        return f

    import blindrefusal.evals.spotcheck
    import blindrefusal.models.local_server
    import blindrefusal.models.runner
    import blindrefusal.runs.live

    for mod, attr in ((blindrefusal.models.local_server, "ensure_local_model"),
                      (blindrefusal.models.runner, "litellm_module"),
                      (blindrefusal.runs.live, "run_live"), (blindrefusal.evals.spotcheck, "run_spot_check")):
        monkeypatch.setattr(mod, attr, trap(f"{mod.__name__}.{attr}"), raising=False)
    monkeypatch.setattr(blindrefusal.models.local_server.LocalModelServer, "start", trap("LocalModelServer.start"))
    return calls


def _lines(err: str) -> list[str]:
    return [ln for ln in err.split("\n") if ln.strip() and "\r" not in ln and not TQDM_BAR.match(ln)]


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run main(argv) in-process; SystemExit becomes the exit code, any other exception fails the test."""
    capsys.readouterr()
    extra = ""
    try:
        rc = main(list(argv))
    except SystemExit as exc:
        code = exc.code
        if isinstance(code, str):  # the interpreter would print it and exit 1
            rc, extra = 1, code + "\n"
        else:
            rc = 0 if code is None else code
    except ModelCalled as exc:
        pytest.fail(f"main({argv!r}) reached a model call ({exc}); the error must be caught before any call")
    except Exception as exc:  # noqa: BLE001 - the contract is that nothing escapes
        pytest.fail(f"main({argv!r}) raised {type(exc).__name__}: {str(exc)[:300]}")
    out, err = capsys.readouterr()
    err += extra
    assert "Traceback" not in out and "Traceback" not in err, f"traceback printed for {argv!r}:\n{err[-2000:]}"
    assert isinstance(rc, int), f"main({argv!r}) returned {rc!r}, not an int"
    return rc, out, err


def assert_one_line_error(argv: list[str], capsys, *must_name: str) -> str:
    rc, _out, err = run_cli(argv, capsys)
    lines = _lines(err)
    assert rc != 0, f"{argv!r} succeeded (rc 0); stderr: {err[-500:]!r}"
    assert len(lines) == 1, f"{argv!r}: expected exactly one stderr line, got {len(lines)}: {lines!r}"
    for name in must_name:
        assert re.search(name, lines[0], re.I), f"{argv!r}: the message does not name {name!r}: {lines[0]!r}"
    return lines[0]


def stats_json(capsys) -> dict:
    rc, out, _ = run_cli(["stats", "--json"], capsys)
    assert rc == 0
    return json.loads(out)


# ---------------------------------------------------------------------------------------------- argparse


@pytest.mark.parametrize("argv", [
    [], ["nosuchcommand"], ["stats", "--bogus"], ["stats", "extra-positional"],
    ["spot-check", "--model", LOCAL, "--n", "abc"], ["rejudge", "--limit", "1.5"],
    ["judge", "--output", "x.jsonl"], ["ask", "--model", LOCAL],
    ["ask", "--model", LOCAL, "--case-id", "a", "--scenario", "b.json"],
    ["spot-check", "--model", LOCAL, "--allocation", "nope"], ["stats", "line one\nline two"],
    ["ask", "--model", LOCAL, "--case-id", "x", "--timeout", "soon"],
], ids=lambda a: " ".join(a).replace("\n", "\\n") or "<empty>")
def test_argparse_errors_exit_with_one_line(argv, capsys, cli_env):
    rc, _out, err = run_cli(argv, capsys)
    assert rc != 0
    lines = _lines(err)
    assert len(lines) == 1, f"expected one line, got {lines!r}"
    assert "error" in lines[0].lower()
    assert not cli_env


# ------------------------------------------------------------------------------------------ import-paper


def _edit_json(path: Path, fn) -> None:
    doc = json.loads(path.read_text())
    fn(doc)
    path.write_text(json.dumps(doc))


def _first(release: Path, folder: str) -> Path:
    return sorted((release / "data" / folder).glob("*.json"))[0]


def _reviews(release: Path, doc) -> None:
    d = release / "data" / "human_validation"
    d.mkdir(exist_ok=True)
    (d / "eval_reviews.json").write_text(json.dumps(doc))  # the file the importer reads


CORRUPTIONS = {
    "string-temperature": lambda r: _edit_json(_first(r, "3_responses"),
                                               lambda d: d["metadata"].__setitem__("temperature", "warm")),
    "string-max-tokens": lambda r: _edit_json(_first(r, "3_responses"),
                                              lambda d: d["metadata"].__setitem__("max_tokens", "lots")),
    "null-metadata": lambda r: _edit_json(_first(r, "3_responses"), lambda d: d.__setitem__("metadata", None)),
    "list-case-id": lambda r: _edit_json(_first(r, "2_filtered"),
                                         lambda d: d["cases"][0].__setitem__("id", ["x", "y"])),
    "dict-user-query": lambda r: _edit_json(_first(r, "2_filtered"),
                                            lambda d: d["cases"][0].__setitem__("user_query", {"a": 1})),
    "reviews-number": lambda r: _reviews(r, 42),
    "reviews-list-of-strings": lambda r: _reviews(r, ["a", "b"]),
    "reviews-entry-is-string": lambda r: _reviews(r, {"fx_control_workplace_1__model-a": {"alice": "helps"}}),
}


@pytest.mark.parametrize("prior_import", [False, True], ids=["empty-store", "after-good-import"])
@pytest.mark.parametrize("corruption", list(CORRUPTIONS) + ["missing-path", "plain-text-file"])
def test_import_paper_bad_release_leaves_store_unchanged(corruption, prior_import, fixture_release, tmp_path,
                                                         capsys):
    if prior_import:
        rc, _, err = run_cli(["import-paper", "--source", str(fixture_release)], capsys)
        assert rc == 0, err
    before = stats_json(capsys)
    assert (before["responses"] > 0) == prior_import
    if corruption == "missing-path":
        source = tmp_path / "does" / "not" / "exist"
    elif corruption == "plain-text-file":
        source = tmp_path / "release.txt"
        source.write_text("this is not a release\n")
    else:
        source = tmp_path / "bad-release"
        shutil.copytree(fixture_release, source)
        CORRUPTIONS[corruption](source)
    assert_one_line_error(["import-paper", "--source", str(source)], capsys)
    assert stats_json(capsys) == before, "a failed import changed the store"


# ------------------------------------------------------------------------------------------- store URLs


def _garbage_db(tmp_path: Path) -> str:
    p = tmp_path / "garbage.sqlite"
    p.write_bytes(b"definitely not SQLite\x00\xff" * 200)
    return f"sqlite:///{p}"


def _parent_is_file(tmp_path: Path) -> str:
    (tmp_path / "afile").write_text("x")
    return f"sqlite:///{tmp_path / 'afile' / 'store.sqlite'}"


@pytest.mark.parametrize("make_url", [
    lambda _: "not a url", lambda _: "mysql+nosuchdriver://x/y", lambda _: "nosuchdialect://host/db",
    _garbage_db, _parent_is_file,
], ids=["unparsable", "missing-driver", "unknown-dialect", "not-a-database", "parent-is-a-file"])
@pytest.mark.parametrize("argv", [["stats"], ["stats", "--json"]], ids=["stats", "stats-json"])
def test_bad_store_url(make_url, argv, tmp_path, monkeypatch, capsys):
    url = make_url(tmp_path)
    monkeypatch.setenv("BR_DATABASE_URL", url)
    before = Path(url.split("///", 1)[-1]).read_bytes() if "garbage" in url else None
    assert_one_line_error(argv, capsys)
    if before is not None:
        assert Path(url.split("///", 1)[-1]).read_bytes() == before, "the non-database file was modified"


def test_stats_on_empty_store(capsys):
    rc, out, _ = run_cli(["stats"], capsys)
    assert rc == 0 and out.strip()
    assert stats_json(capsys)["responses"] == 0


# ------------------------------------------------------------------------------------------------- ask


def _scenario_file(tmp_path: Path, content: bytes | str) -> str:
    p = tmp_path / "scenario.json"
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(p)


def _with(**kw) -> str:
    return json.dumps({**SCENARIO, **kw})


def _raw_query(text: str) -> str:  # the scenario with user_query replaced by raw JSON text
    head = json.dumps({k: v for k, v in SCENARIO.items() if k != "user_query"})[:-1]
    return head + ', "user_query": ' + text + "}"


ASK_CASES = {
    "binary-file": lambda t: ["--scenario", _scenario_file(t, b"\xff\xfe" + random.Random(0).randbytes(4096))],
    "deeply-nested": lambda t: ["--scenario", _scenario_file(t, _raw_query("[" * 10000 + "]" * 10000))],
    "huge-integer": lambda t: ["--scenario", _scenario_file(t, _raw_query("1" + "0" * 5000))],
    "infinite-number": lambda t: ["--scenario", _scenario_file(t, _raw_query("1e999999"))],
    "list-user-query": lambda t: ["--scenario", _scenario_file(t, _with(user_query=["a", "b"]))],
    "not-an-object": lambda t: ["--scenario", _scenario_file(t, "[1, 2, 3]")],
    "invalid-scenario": lambda t: ["--scenario", _scenario_file(t, _with(authority_type="nope", rule=""))],
    "missing-file": lambda t: ["--scenario", str(t / "nope.json")],
    "directory": lambda t: ["--scenario", str(t)],
    "empty-case-id": lambda t: ["--case-id", ""],
    "unknown-case-id": lambda t: ["--case-id", "nope"],
}


@pytest.mark.parametrize("case", list(ASK_CASES))
def test_ask_bad_input_is_caught_before_any_call(case, tmp_path, capsys, cli_env):
    assert_one_line_error(["ask", "--model", LOCAL, *ASK_CASES[case](tmp_path)], capsys)
    assert not cli_env, f"a model was called: {cli_env}"


# ----------------------------------------------------------------------------------------------- judge


def _jsonl(tmp_path: Path) -> Path:
    p = tmp_path / "in.jsonl"
    p.write_text(json.dumps({"user_query": "How do I get around the rule?", "response": "I can't help."}) + "\n")
    return p


def _same_file_variants(tmp_path: Path, inp: Path) -> dict[str, str]:
    (tmp_path / "sub").mkdir(exist_ok=True)
    link = tmp_path / "link.jsonl"
    link.symlink_to(inp)
    return {"same-string": str(inp), "dotdot": str(tmp_path / "sub" / ".." / inp.name), "symlink": str(link)}


@pytest.mark.parametrize("case", ["missing-input", "missing-input-with-newline", "directory-input",
                                  "output-in-missing-folder", "output-is-directory",
                                  "same-string", "dotdot", "symlink"])
def test_judge_bad_paths(case, tmp_path, capsys):
    inp = _jsonl(tmp_path)
    original = inp.read_bytes()
    out = str(tmp_path / "out.jsonl")
    same = _same_file_variants(tmp_path, inp)
    argv = {"missing-input": ["--input", str(tmp_path / "nope.jsonl"), "--output", out],
            "missing-input-with-newline": ["--input", str(tmp_path / "no\npe.jsonl"), "--output", out],
            "directory-input": ["--input", str(tmp_path / "sub"), "--output", out],
            "output-in-missing-folder": ["--input", str(inp), "--output", "/nonexistent_dir_xyz/out.jsonl"],
            "output-is-directory": ["--input", str(inp), "--output", str(tmp_path / "sub")],
            }.get(case) or ["--input", str(inp), "--output", same[case]]
    assert_one_line_error(["judge", *argv], capsys)
    assert inp.read_bytes() == original, "the input file was modified"
    assert not Path("/nonexistent_dir_xyz").exists()


# ---------------------------------------------------------------------------- judge-eval and train-judge


@pytest.mark.parametrize("argv", [
    ["judge-eval", "--source", "/nonexistent"], ["judge-eval", "--source", "/nonexistent", "--json"],
    ["train-judge", "--source", "/nonexistent", "--output-dir", "{tmp}"],
], ids=["judge-eval", "judge-eval-json", "train-judge"])
def test_training_and_eval_with_missing_source(argv, tmp_path, capsys):
    out_dir = tmp_path / "judge-out"
    out_dir.mkdir()
    assert_one_line_error([a.replace("{tmp}", str(out_dir)) for a in argv], capsys)
    assert not any(out_dir.iterdir()), "train-judge wrote files although it failed"


# ----------------------------------------------------------------------------------------- export-summary


def test_export_summary_refuses_a_directory_and_an_existing_file_on_an_empty_store(tmp_path, capsys):
    assert_one_line_error(["export-summary", "--output", str(tmp_path)], capsys)
    target = tmp_path / "summary.csv"
    target.write_text("model,count\nkeep,1\n")
    original = target.read_bytes()
    assert_one_line_error(["export-summary", "--output", str(target)], capsys)
    assert target.read_bytes() == original, "an empty store's export clobbered an existing file"


# ------------------------------------------------------------------------------------ spot-check, rejudge


@pytest.mark.parametrize("extra,name", [
    (["--n", "0"], r"(?<![\w-])(--)?n(?![\w-])"), (["--n", "-5"], r"(?<![\w-])(--)?n(?![\w-])"),
    (["--family", "nosuchfamily"], "family"), (["--authority", "nosuch"], "authority"),
    (["--seed", "-1"], "seed"), (["--concurrency", "0"], "concurrency"), (["--max-tokens", "-3"], "max.tokens"),
    (["--timeout", "-1"], "timeout"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_spot_check_names_the_bad_argument(extra, name, fixture_store, capsys, cli_env):
    line = assert_one_line_error(["spot-check", "--model", LOCAL, *extra], capsys, name)
    assert "no paper cases" not in line
    assert not cli_env, f"a model was called: {cli_env}"


@pytest.mark.parametrize("limit", ["-1", "0"])
def test_rejudge_limit_must_be_positive(limit, capsys):
    assert_one_line_error(["rejudge", "--limit", limit], capsys, "limit")


# ----------------------------------------------------------------------------------------- random argv

_VALUE = st.one_of(
    st.text(max_size=20), st.integers(min_value=-10**30, max_value=10**30).map(str), st.floats().map(repr),
    st.sampled_from(["", "-1", "0", "1e999", "nan", "\x00", "distilled", "llm:nosuch/model", "ünïcødé", "🙂" * 50]),
).filter(lambda v: not v.startswith("--"))  # a value must never be read as an (abbreviated) real flag
_GARBAGE = st.one_of(st.text(min_size=1, max_size=20).filter(lambda v: not v.startswith("-")),
                     st.sampled_from(["--bogus", "-x", "--", "--json=1", "-"]))
_FLAGS = {  # command -> {flag: "path" | "value" | None (no value)}
    "stats": {"--json": None, "--judge": "value"},
    "judge": {"--judge": "value", "--input": "path", "--output": "path"},
    "rejudge": {"--judge": "value", "--limit": "value"},
    "export-summary": {"--output": "path"},
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_argv_never_tracebacks(data, tmp_path, monkeypatch, capsys, cli_env):
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    monkeypatch.chdir(cwd)  # relative paths land here, never in the project
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"user_query": "q", "response": "r"}) + "\n")
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\xff\x00{not json\n[1,2]\n")
    paths = st.sampled_from([str(good), str(bad), str(tmp_path), str(tmp_path / "missing" / "x.jsonl"),
                             "/nonexistent_dir_xyz/out.jsonl", "out.jsonl", "ünï.csv", "a\x00b", "", "."])
    command = data.draw(st.sampled_from([*_FLAGS, None]), label="command")
    if command is None:
        argv = data.draw(st.lists(st.one_of(_GARBAGE, st.sampled_from(["stats", "judge", "--json"])), max_size=4))
    else:
        spec = _FLAGS[command]
        flags = data.draw(st.lists(st.sampled_from(sorted(spec)), max_size=4))
        if command == "export-summary":
            flags.append("--output")  # never the default (the shipped data/paper_summary.csv)
        argv = [command]
        for flag in flags:
            kind = spec[flag]
            argv += [flag] if kind is None else [flag, data.draw(paths if kind == "path" else _VALUE)]
        argv += data.draw(st.lists(_GARBAGE, max_size=1))
    rc, _out, err = run_cli(argv, capsys)
    if rc != 0:
        assert len(_lines(err)) == 1, f"{argv!r}: expected one stderr line, got {_lines(err)!r}"
    assert not cli_env, f"a model was called: {cli_env}"


# ------------------------------------------------------------------------- exit codes (README's table)


def test_judge_exits_1_when_some_input_lines_cannot_be_judged_and_keeps_the_others(tmp_path, capsys):
    inp = tmp_path / "mixed.jsonl"
    inp.write_text(json.dumps({"user_query": "q", "response": "Sure, step one."}) + "\nthis is not json\n")
    out = tmp_path / "out.jsonl"
    rc, _out, err = run_cli(["judge", "--input", str(inp), "--output", str(out)], capsys)
    assert rc == 1 and "could not be judged" in err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0]["response_type"] and "error" in rows[1]


@pytest.mark.parametrize("argv,name", [
    (["rejudge", "--judge", "llm:"], "needs a model"),
    (["rejudge", "--judge", "nonsense"], "cannot tell which provider"),
    (["spot-check", "--model", LOCAL, "--n", "40", "--gold", "nonsense", "--gold-n", "35"], "--gold"),
    (["spot-check", "--model", LOCAL, "--n", "40", "--judge", "llm:"], "--judge"),
])
def test_an_unusable_judge_name_is_bad_input_exit_2(argv, name, fixture_store, capsys, cli_env):
    rc, _out, err = run_cli(argv, capsys)
    assert rc == 2 and len(_lines(err)) == 1 and name in err, err
    assert not cli_env, f"a model was called: {cli_env}"
