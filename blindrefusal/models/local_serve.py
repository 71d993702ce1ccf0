"""Run llama-cpp-python's server in this process, and end it as soon as the process that started it is gone
(a crash or a kill -9 of the app included: atexit handlers never run then). Linux's PR_SET_PDEATHSIG would
fire when the starting *thread* ends, and the app starts the model from a short-lived script thread, so the
parent is watched by its pid instead.

    python -m blindrefusal.models.local_serve <parent pid> <llama_cpp.server arguments…>"""

from __future__ import annotations

import os
import runpy
import sys
import threading
import time


def watch_parent(parent: int, interval: float = 0.5) -> None:
    """End this process once it is no longer the child of `parent` (it was re-parented: the parent died)."""
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(0)


def main(argv: list[str]) -> None:
    parent = int(argv[0])
    threading.Thread(target=watch_parent, args=(parent,), daemon=True, name="parent-watch").start()
    sys.argv = ["llama_cpp.server", *argv[1:]]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
