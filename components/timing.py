"""Server-side script-run times, for benchmarks/load.py: with BR_TIMINGS_FILE set, each run of the app's script
appends one JSON line (page, seconds, how it ended, replica). Off (and free) otherwise."""

from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager

from blindrefusal.config import replica_name

_lock = threading.Lock()


@contextmanager
def script_timer(page: str):
    path = os.environ.get("BR_TIMINGS_FILE")
    if not path:
        yield
        return
    start, ended = time.perf_counter(), "error"
    try:
        yield
        ended = "done"
    except BaseException as exc:  # st.rerun / st.stop end a run by raising: record how, and let them through
        ended = type(exc).__name__
        raise
    finally:
        line = json.dumps({"page": page, "s": round(time.perf_counter() - start, 4), "ended": ended,
                           "at": time.time(), "replica": replica_name()})
        with _lock, open(path, "a", encoding="utf-8") as out:
            out.write(line + "\n")
