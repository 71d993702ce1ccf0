"""What every command shares: the one-line error, the parser that never prints a traceback, argument types,
the store, files in and out, and a progress bar on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from blindrefusal.exports.inert import terminal_text
from vocabulary import BlindRefusalError


class CliError(BlindRefusalError):
    """A user-facing, one-line reason why a command cannot run (exit code 2, or `code`: 3 = confirm a cost)."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {terminal_text(' '.join(message.split()))}", file=sys.stderr)  # one line, always
        raise SystemExit(2)


def int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be {low} or more (got {value})")
        return value

    return parse


def _float_from(text: str, low_ok: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not ((0 <= value) if low_ok else (0 < value)) or not value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a {'non-negative' if low_ok else 'positive'} number (got {text})")
    return value


def positive_float(text: str) -> float:
    return _float_from(text, low_ok=False)


def non_negative_float(text: str) -> float:
    return _float_from(text, low_ok=True)


def open_store():
    from blindrefusal import store

    return store.open_default()


def read_json_file(path: str, what: str) -> Any:
    p = Path(path)
    if not p.is_file():
        raise CliError(f"{what} {path!r} is not a file")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CliError(f"{what} {path!r} is not UTF-8 text") from None
    except RecursionError:
        raise CliError(f"{what} {path!r} is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
        raise CliError(f"{what} {path!r} is not valid JSON: {str(exc)[:120]}") from None
    except OSError as exc:
        raise CliError(f"cannot read {what} {path!r}: {exc.strerror or exc}") from None


def writable_file(path: str, what: str) -> Path:
    p = Path(path)
    if p.is_dir():
        raise CliError(f"{what} {path!r} is a directory; give a file path")
    if not p.parent.is_dir():
        raise CliError(f"{what} {path!r}: the folder {str(p.parent)!r} does not exist")
    return p


def progress_bar(desc: str):
    from tqdm import tqdm

    bar = tqdm(total=0, desc=desc, unit="file", file=sys.stderr, disable=None)

    def update(done: int, total: int, name: str) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(name.split("/")[-1][:40], refresh=False)
        bar.refresh()

    return bar, update



def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


POSITIVE, NON_NEGATIVE = int_at_least(1), int_at_least(0)
CLI_VISITOR = "cli"  # who the spending ledger says spent: the host, at the command line


def system_prompt_of(value: str) -> str | None:
    """--system-prompt's value: none, an example's name, or a UTF-8 text file (its text)."""
    from pathlib import Path

    from blindrefusal.models.configuration import MAX_SYSTEM_PROMPT_CHARS, NONE, clean_prompt, prompt_presets

    if value.strip().lower() == NONE:
        return None
    if value in prompt_presets():
        return prompt_presets()[value].text
    path = Path(value)
    if not path.is_file():
        raise CliError(f"--system-prompt {value[:80]!r}: not none, an example ({', '.join(prompt_presets())}) or a "
                       "file")
    try:
        text = clean_prompt(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, OSError) as exc:
        raise CliError(f"--system-prompt {value[:80]!r}: cannot read it as UTF-8 text ({type(exc).__name__})") from None
    if text is None:
        raise CliError(f"--system-prompt {value[:80]!r} is empty: give none for no system prompt")
    if len(text) > MAX_SYSTEM_PROMPT_CHARS:
        raise CliError(f"--system-prompt {value[:80]!r}: at most {MAX_SYSTEM_PROMPT_CHARS:,} characters "
                       f"(got {len(text):,})")
    return text
