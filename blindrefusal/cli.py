"""`python -m blindrefusal <command>`. Each command imports only what it needs (cold start matters)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import DATA_DIR, data_source


def _progress_bar(desc: str):
    from tqdm import tqdm

    bar = tqdm(total=0, desc=desc, unit="file", file=sys.stderr, disable=None)

    def update(done: int, total: int, name: str) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(name.split("/")[-1][:40], refresh=False)
        bar.refresh()

    return bar, update


def cmd_import_paper(args) -> int:
    from .importer import import_paper
    from .release import ReleaseError

    source = args.source or data_source()
    bar, update = _progress_bar("import-paper")
    try:
        result = import_paper(source, progress=update)
    except ReleaseError as exc:
        bar.close()
        print(f"import failed, the store is unchanged: {exc}", file=sys.stderr)
        return 2
    bar.close()
    print(json.dumps(result))
    return 0


def cmd_ensure_store(args) -> int:
    """Import the paper when the store holds none of it; never fail `make run` for want of the data."""
    from db.engine import get_engine
    from db.queries import store_counts

    if store_counts(get_engine())["paper_responses"]:
        print("store: the paper is already imported")
        return 0
    rc = cmd_import_paper(argparse.Namespace(source=None))
    if rc:
        print("store: the paper is not imported; the app shows the shipped summary (data/paper_summary.csv). "
              "Set BR_DATA_SOURCE and run `python -m blindrefusal import-paper` for cases and responses.", file=sys.stderr)
    return 0


def cmd_stats(args) -> int:
    from db.engine import get_engine

    from .metrics import store_stats

    stats = store_stats(get_engine(), judge=args.judge)
    if args.json:
        print(json.dumps(stats, indent=1))
    else:
        d = stats["defeated"]
        print(f"{stats['responses']:,} judged responses, {stats['cases']:,} cases, {stats['models']} models")
        print(f"defeated n={d['n']:,}: helps {d['helps']:.1%}, refusal {d['refusal']:.1%}, engages {d['engages']:.1%}")
        print(f"control n={stats['control']['n']:,}: helps {stats['control']['helps']:.1%}")
    return 0


def cmd_export_summary(args) -> int:
    from db.engine import get_engine
    from db.summary import export_summary

    n = export_summary(get_engine(), Path(args.output))
    print(f"wrote {n} rows to {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m blindrefusal", description="Blind Refusal Explorer command line")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("import-paper", help="import the paper's release into the store (idempotent, atomic)")
    s.add_argument("--source", help="directory, .zip or URL of the release (default: $BR_DATA_SOURCE)")
    s.set_defaults(func=cmd_import_paper)

    s = sub.add_parser("ensure-store", help="import the paper if the store is empty (used by make)")
    s.set_defaults(func=cmd_ensure_store)

    s = sub.add_parser("stats", help="headline numbers of the store")
    s.add_argument("--json", action="store_true")
    s.add_argument("--judge", help="use only this judge's labels (default: precedence human > LLM > distilled)")
    s.set_defaults(func=cmd_stats)

    s = sub.add_parser("export-summary", help="write data/paper_summary.csv (counts only, no text)")
    s.add_argument("--output", default=str(DATA_DIR / "paper_summary.csv"))
    s.set_defaults(func=cmd_export_summary)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
