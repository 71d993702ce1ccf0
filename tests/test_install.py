"""The locked install: the lock pins every package the sources ask for, with hashes, `make` installs exactly it
(this very environment is checked against it), and the vulnerability audit fails when it could not audit."""

from __future__ import annotations

import re
import subprocess
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support import ROOT

PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s\\;]+)")


def _pins(lock: str) -> dict[str, tuple[str, int]]:
    """{name: (version, number of hashes)} of a lock file written by `make lock`."""
    pins, current = {}, None
    for line in (ROOT / lock).read_text().splitlines():
        if (m := PIN.match(line)) is not None:
            current = canonicalize_name(m.group(1).split("[")[0])
            pins[current] = (m.group(2), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            pins[current] = (pins[current][0], pins[current][1] + 1)
    return pins


def _sources(path: str) -> list[Requirement]:
    lines = (ROOT / path).read_text().splitlines()
    return [Requirement(line.split("#")[0].strip()) for line in lines if line.split("#")[0].strip()]


def test_the_locks_pin_every_requirement_with_hashes_and_this_environment_is_exactly_the_lock():
    for source, lock in (("requirements.txt", "requirements.lock"), ("requirements-nodeps.txt",
                                                                      "requirements-nodeps.lock"),
                         ("requirements-tools.txt", "requirements-tools.lock")):
        pins = _pins(lock)
        assert pins and all(hashes >= 1 for _, hashes in pins.values()), lock
        for req in _sources(source):  # edited requirements*.txt without `make lock` fails here
            version = pins.get(canonicalize_name(req.name), (None,))[0]
            assert version is not None and req.specifier.contains(version, prereleases=True), (source, str(req))
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    locked = {**_pins("requirements.lock"), **_pins("requirements-nodeps.lock")}
    drift = {name: (version, installed.get(name)) for name, (version, _) in locked.items()
             if installed.get(name) != version}
    assert not drift, f"this environment is not the lock (run make setup): {drift}"


def test_make_installs_from_the_locks_with_hashes_required():
    plan = subprocess.run(["make", "-n", "-B", "setup", "VENV=/nonexistent-venv"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout
    installs = [line for line in plan.splitlines() if " pip install " in line]
    assert len(installs) == 2 and all("--require-hashes" in line and re.search(r"-r requirements[\w-]*\.lock", line)
                                      for line in installs), plan
    assert "requirements.txt" not in "\n".join(installs)


def test_the_audit_fails_when_its_vulnerability_service_cannot_answer():
    """pip-audit without --strict reports "No known vulnerabilities found" having looked nothing up."""
    out = subprocess.run(["make", "audit", "AUDIT_SERVICE=--vulnerability-service osv --osv-url "
                          "http://127.0.0.1:9/v1/query"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode != 0, out.stdout[-2000:]
    assert "No known vulnerabilities found" not in out.stdout + out.stderr
