"""`python -m blindrefusal <command>`: argparse and output only; the work is the pipeline's. Each command imports
only what it needs (cold start matters).

Bad input of any kind ends in one line on stderr and a non-zero exit, never a traceback: argument errors exit 2
from the parser, a user-facing error (any `BlindRefusalError`: a bad file, store, setting or judge) returns 2 (3:
confirm a cost), and an unexpected failure returns 1 with its one-line summary (BR_DEBUG=1 shows the traceback)."""

from __future__ import annotations

import argparse
import os
import sys

from blindrefusal.cli.common import CliError, Parser
from blindrefusal.cli.fresh_commands import add_fresh_commands
from blindrefusal.cli.judge_commands import add_judge_commands
from blindrefusal.cli.run_commands import add_ask, add_plan_gold, add_spot_check
from blindrefusal.cli.store_commands import add_store_commands
from blindrefusal.cli.worker_commands import add_worker
from blindrefusal.exports.inert import terminal_text
from vocabulary import BlindRefusalError


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m blindrefusal", description="Blind Refusal Explorer command line")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for add in (add_store_commands, add_ask, add_spot_check, add_plan_gold, add_judge_commands, add_fresh_commands,
                add_worker):
        add(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place that turns any failure into one line
        if os.environ.get("BR_DEBUG"):
            raise
        known = isinstance(exc, BlindRefusalError)
        message = " ".join(str(exc).split()) or type(exc).__name__
        if not known:
            message = f"{type(exc).__name__}: {message} (set BR_DEBUG=1 for the traceback)"
        print(f"error: {terminal_text(message)[:2000]}", file=sys.stderr)
        return (exc.code if isinstance(exc, CliError) else 2) if known else 1
