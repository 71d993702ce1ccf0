"""`worker`: take long jobs (spot-checks, generation runs, re-judging) from a team store's queue."""

from __future__ import annotations

import sys

from blindrefusal.cli.common import POSITIVE, CliError, open_store


def add_worker(sub) -> None:
    w = sub.add_parser("worker", help="run long jobs from the PostgreSQL queue (a team's store) until stopped")
    w.add_argument("--concurrency", type=POSITIVE, default=None,
                   help="jobs at once on this worker (default BR_MAX_JOBS, 2)")
    w.add_argument("--name", help="this worker's name in the queue (default: its host and process)")
    w.add_argument("--stalled-after", type=POSITIVE, default=30,
                   help="seconds without a heartbeat before another worker's jobs are queued again (default 30)")
    w.set_defaults(func=cmd_worker)


def cmd_worker(args) -> int:
    from blindrefusal import store
    from blindrefusal.config import max_jobs
    from blindrefusal.jobs.worker import run_worker

    engine = open_store()
    if engine.dialect.name != "postgresql":
        raise CliError("workers need a PostgreSQL store (BR_DATABASE_URL=postgresql+psycopg://…); with SQLite the "
                       "web server runs long jobs itself")
    name = args.name or store.process_id()
    print(f"worker {name}: taking jobs from {engine.url.render_as_string(hide_password=True)}", file=sys.stderr)
    run_worker(engine, args.concurrency or max_jobs()[0], name, float(args.stalled_after))
    return 0
