"""Commands on the store: import-paper, ensure-store, stats, export-summary."""

from __future__ import annotations

import argparse
import json
import os
import sys

from blindrefusal.cli.common import CliError, open_store, pct, progress_bar, writable_file
from blindrefusal.config import DATA_DIR, data_source


def add_store_commands(sub) -> None:
    s = sub.add_parser("import-paper", help="import the paper's release into the store (idempotent, atomic)")
    s.add_argument("--source", help="directory, .zip or URL of the release (default: $BR_DATA_SOURCE)")
    s.set_defaults(func=cmd_import_paper)
    s = sub.add_parser("ensure-store", help="import the paper if the store is empty (used by make)")
    s.set_defaults(func=cmd_ensure_store)
    s = sub.add_parser("stats", help="headline numbers of the store")
    s.add_argument("--json", action="store_true")
    s.add_argument("--judge", help="use only this judge's labels, or '(effective)' for our reviewers' corrections "
                                   "(default: the release's own labels, as published)")
    s.set_defaults(func=cmd_stats)
    s = sub.add_parser("export-summary", help="write data/paper_summary.csv (counts only, no text)")
    s.add_argument("--output", default=str(DATA_DIR / "paper_summary.csv"))
    s.set_defaults(func=cmd_export_summary)


def cmd_stats(args) -> int:
    from blindrefusal.analysis.rates import store_stats

    stats = store_stats(open_store(), judge=args.judge)
    if args.json:
        print(json.dumps(stats, indent=1))
        return 0
    d, c = stats["defeated"], stats["control"]
    print(f"{stats['responses']:,} judged responses, {stats['cases']:,} cases, {stats['models']} models")
    print(f"defeated n={d['n']:,}: helps {pct(d['helps'])}, refusal {pct(d['refusal'])}, engages {pct(d['engages'])}")
    print(f"control n={c['n']:,}: helps {pct(c['helps'])}")
    return 0


def cmd_export_summary(args) -> int:
    from blindrefusal import store

    path = writable_file(args.output, "--output")
    try:
        n = store.export_summary(open_store(), path)
    except ValueError as exc:  # refusing to write an empty summary over an existing one
        raise CliError(str(exc)) from None
    print(f"wrote {n} rows to {path}")
    return 0


def cmd_import_paper(args) -> int:
    from blindrefusal.paper.importer import import_paper
    from blindrefusal.paper.source import ReleaseError

    engine = open_store()
    bar, update = progress_bar("import-paper")
    try:
        result = import_paper(args.source or data_source(), engine=engine, progress=update)
    except ReleaseError as exc:
        raise CliError(f"import failed, the store is unchanged: {exc}") from None
    finally:
        bar.close()
    print(json.dumps(result))
    return 0


def cmd_ensure_store(args) -> int:
    """Import the paper when the store holds none of it; never fail `make run` for want of the data."""
    from blindrefusal import store
    from blindrefusal.paper.prompts import GENERATOR_PROMPT, JUDGE_PROMPT

    engine = open_store()
    if store.has_paper(engine):
        print("store: the paper is already imported")
        prompts = (JUDGE_PROMPT, GENERATOR_PROMPT)  # a store imported before the generator's prompts were kept
        if any(store.release_prompt(engine, p) is None for p in prompts) and os.environ.get("BR_DATA_SOURCE"):
            from blindrefusal.paper.importer import import_prompts
            from blindrefusal.paper.source import ReleaseError

            try:
                print("store: added the release's prompts: "
                      f"{', '.join(import_prompts(data_source(), engine)) or 'none found'}")
            except ReleaseError as exc:
                print(f"store: the release's prompts were not added: {exc}")
        return 0
    try:
        return cmd_import_paper(argparse.Namespace(source=None))
    except CliError as exc:
        print(f"store: {exc}. The app shows the shipped summary (data/paper_summary.csv); set BR_DATA_SOURCE "
              "and run `python -m blindrefusal import-paper` for cases and responses.", file=sys.stderr)
        return 0
