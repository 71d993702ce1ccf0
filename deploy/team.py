"""A team's server on one machine, all on loopback: N Streamlit replicas behind haproxy (sticky sessions,
websockets, failover), one job worker, and PostgreSQL. `make serve-team REPLICAS=2` runs it until Ctrl-C.

    python deploy/team.py [--replicas N] [--port 8500] [--workers 1]

BR_DATABASE_URL=postgresql+psycopg://… uses that store; otherwise a throwaway PostgreSQL server is started in
.team/postgres (deploy/postgres.sh) and the paper imported into it. The replicas share one `server.cookieSecret`
(BR_COOKIE_SECRET, else one drawn for this start), so an upload's XSRF token holds on whichever replica takes it.
The same layout on several machines: see the README's "Team server" section."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from blindrefusal.config import REPLICA_COOKIE  # noqa: E402

HAPROXY = """global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    option redispatch
    retries 3
frontend web
    bind 127.0.0.1:{port}
    # the browser's reconnect probes go to any live replica and leave the sticky cookie alone, so the
    # websocket that follows still names the replica it was on (the app says when that one stopped)
    acl probe path /_stcore/health /_stcore/host-config
    use_backend probes if probe
    default_backend replicas
backend replicas
    balance roundrobin
    cookie {cookie} insert nocache
    option httpchk GET /_stcore/health
{servers}
backend probes
    balance roundrobin
    option httpchk GET /_stcore/health
{probe_servers}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{what} did not answer {url}")


def _servers(ports: dict[str, int], sticky: bool) -> str:
    """haproxy's server lines for the replicas; sticky ones carry the cookie value that pins a browser."""
    return "\n".join(f"    server {name} 127.0.0.1:{port} "
                     f"check{f' cookie {name}' if sticky else ''} inter 500ms fall 2 rise 2"
                     for name, port in ports.items())


@dataclass
class Team:
    """The running processes. Use as a context manager; `kill_replica` stops one the hard way (a failover)."""
    database_url: str
    replicas: int = 2
    port: int = 0
    workers: int = 1
    logs: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="br-team-")))
    env: dict = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    replica_ports: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, name: str, cmd: list[str], env: dict) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **self.env, **env}, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def __enter__(self) -> "Team":
        self.port = self.port or free_port()
        cookie_secret = os.environ.get("BR_COOKIE_SECRET") or secrets.token_urlsafe(32)
        base = {"BR_DATABASE_URL": self.database_url, "BR_JOBS": "queue"}
        for i in range(1, self.workers + 1):
            self._spawn(f"worker{i}", [sys.executable, "-m", "blindrefusal", "worker", "--name", f"worker{i}"], base)
        for i in range(1, self.replicas + 1):
            name, port = f"r{i}", free_port()
            self.replica_ports[name] = port
            self._spawn(name, [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                               "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
                               "--server.fileWatcherType", "none",
                               "--browser.gatherUsageStats", "false"],
                        {**base, "BR_REPLICA_NAME": name, "STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret})
        config = self.logs / "haproxy.cfg"
        config.write_text(HAPROXY.format(port=self.port, cookie=REPLICA_COOKIE,
                                         servers=_servers(self.replica_ports, sticky=True),
                                         probe_servers=_servers(self.replica_ports, sticky=False)))
        for name, port in self.replica_ports.items():
            wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", self.procs[name], f"replica {name}")
        wait_healthy(self.url + "/_stcore/health", self._spawn("haproxy", ["haproxy", "-db", "-f", str(config)], {}),
                     "haproxy")
        return self

    def kill_replica(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(10)

    def __exit__(self, *exc) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _team_database() -> tuple[str, Path | None]:
    """BR_DATABASE_URL when it is PostgreSQL; else a throwaway server in .team/postgres (with the paper)."""
    url = os.environ.get("BR_DATABASE_URL", "")
    if url.startswith("postgresql"):
        return url, None
    folder = ROOT / ".team" / "postgres"
    url = subprocess.run([str(ROOT / "deploy" / "postgres.sh"), "start", str(folder), "55499"], check=True,
                         capture_output=True, text=True).stdout.strip()
    subprocess.run([sys.executable, "-m", "blindrefusal", "ensure-store"], cwd=ROOT, check=True,
                   env={**os.environ, "BR_DATABASE_URL": url})
    return url, folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=8500)
    args = parser.parse_args()
    url, pg_folder = _team_database()
    try:
        with Team(url, replicas=max(1, args.replicas), port=args.port, workers=max(0, args.workers)) as team:
            print(f"team server: {team.url} ({args.replicas} replicas, {args.workers} worker(s); logs in "
                  f"{team.logs}); Ctrl-C stops it", flush=True)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            while all(p.poll() is None for p in team.procs.values()):
                time.sleep(1)
            stopped = [name for name, p in team.procs.items() if p.poll() is not None]
            print(f"stopped: {', '.join(stopped)} (see {team.logs})", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"team server: {exc}", file=sys.stderr)
        return 1
    finally:
        if pg_folder is not None:
            subprocess.run([str(ROOT / "deploy" / "postgres.sh"), "stop", str(pg_folder)], check=False)


if __name__ == "__main__":
    sys.exit(main())
