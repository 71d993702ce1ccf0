"""`make run` is the room-ready server: the settings a shared link needs live in .streamlit/config.toml (read by
Streamlit itself), and hot reload is `make dev`'s opt-in. The numbers behind each setting: README, A room of
visitors."""

from __future__ import annotations

import re
import tomllib

from tests.support import ROOT


def _target(name: str) -> str:
    makefile = (ROOT / "Makefile").read_text()
    found = re.search(rf"^{name}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert found, name
    return found.group(1)


def test_the_served_app_has_no_file_watcher_no_magic_and_no_gc_per_run():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none" and config["server"]["runOnSave"] is False
    assert config["runner"]["magicEnabled"] is False and config["runner"]["postScriptGC"] is False
    assert config["client"]["toolbarMode"] == "viewer"
    assert "fileWatcherType" not in _target("run")  # `make run` keeps the config's settings
    assert "--server.fileWatcherType auto" in _target("dev") and "--server.runOnSave true" in _target("dev")
