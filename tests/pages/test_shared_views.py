"""The process-wide memo behind shared views and cached reads (components/resources.py): a room asking at once
builds a value once, and what is alive after a build is kept out of the cycle collector's walk, with cyclic
garbage among it still collected in time."""

from __future__ import annotations

import gc
import threading
import weakref

from components import resources


def test_a_room_asking_at_once_builds_a_value_once_and_shares_it():
    memo, builds, barrier = resources._Memo(max_entries=4), [], threading.Barrier(8)
    got: list[object] = []

    def build() -> object:
        builds.append(1)
        return object()

    def visitor() -> None:
        barrier.wait()
        got.append(memo.get(("view", 1), build))

    threads = [threading.Thread(target=visitor) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and len(got) == 8 and all(v is got[0] for v in got)


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_what_a_build_leaves_alive_is_frozen_and_its_cyclic_garbage_is_collected_later(monkeypatch):
    gc.collect()
    try:
        memo, doomed = resources._Memo(max_entries=4), _Cycle()
        alive = weakref.ref(doomed)
        memo.get(("view", 1), object)
        assert gc.get_freeze_count() > 0
        del doomed
        gc.collect()
        assert alive() is not None  # frozen: a full collection no longer walks it
        monkeypatch.setattr(resources, "_last_full_collection", 0.0)  # ten minutes have passed
        memo.get(("view", 2), object)
        assert alive() is None  # the next build collected it
    finally:
        gc.unfreeze()
