"""gunicorn started and stopped as `make serve` runs it, and its workers' memory."""

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from bench.client import Client
from bench.config import GUNICORN, HASH_TIMES, ROOT
from bench.database import Database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def django_env(db: Database, secret_key: str) -> dict[str, str]:
    """The environment of `make serve`, for the benchmark: production settings,
    the ceiling view mounted, plain HTTP on loopback, no real emails; Redis for
    the cache and sessions only in the PostgreSQL + Redis pass."""
    env = dict(os.environ)
    env.update(
        DJANGO_ENV="production",
        DJANGO_SETTINGS_MODULE="bench.settings",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL="http://127.0.0.1",
        HOST="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=db.url,
        # Guests guest-N@example.com must never be mailed; the dummy backend still
        # renders every email, so the work of an RSVP is measured all the same.
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        # Where the workers write how long each password check took.
        BENCHMARK_HASH_TIMES=str(HASH_TIMES),
    )
    env.pop("BEHIND_HTTPS_PROXY", None)
    # Redis only in the pass that is about it: the others use each worker's memory.
    env.pop("REDIS_URL", None)
    if db.redis_url:
        env["REDIS_URL"] = db.redis_url
    return env


class Server:
    """gunicorn exactly as `make serve` starts it, on a free loopback port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.env = {**env, "PORT": str(self.port)}
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [str(GUNICORN), "--config", "gunicorn.conf.py", "dinnerparty.wsgi"]
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(  # noqa: S603 -- our own fixed command
                cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}):\n{self.tail()}")
            with contextlib.suppress(OSError):
                if Client(self.port).request("GET", "/healthz").status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz in 60s:\n{self.tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def drain(self) -> None:
        """Wait until requests a finished wrk left queued are served: gunicorn
        still answers them, and they would eat into the next measurement."""
        client = Client(self.port)
        for _ in range(2):
            with contextlib.suppress(OSError):
                client.request("GET", "/healthz")

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def workers(self) -> list[int]:
        if self.proc is None:
            return []
        pid = self.proc.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            return [int(child) for child in children]
        except OSError:
            return []


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmHWM, VmRSS) of a process in MB: its peak and current resident set size."""
    found = {"VmHWM:": 0.0, "VmRSS:": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = line.split(":", 1)[0] + ":"
            if key in found:
                found[key] = int(line.split()[1]) / 1024
    except OSError:
        pass  # the worker was just recycled
    return found["VmHWM:"], found["VmRSS:"]


class RssSampler(threading.Thread):
    """Samples processes' memory while they run: `pids` names them at each sample
    (gunicorn's workers, which are recycled, so reading them only at the end would
    miss peaks). `peaks` is each one's VmHWM (its peak since it started, not its
    parent's: unlike rusage's ru_maxrss, which Linux carries through fork and
    exec); `hwm` the largest of them (the target); `rss` the largest VmRSS seen,
    which tells the endpoints apart (VmHWM keeps the peak of whatever the worker
    served before)."""

    def __init__(self, pids: Callable[[], Iterable[int]], every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.every = every
        self.peaks: dict[int, float] = {}
        self.rss = 0.0
        self.halt = threading.Event()
        self.sample()
        self.initial = len(self.peaks)

    @property
    def hwm(self) -> float:
        return max(self.peaks.values(), default=0.0)

    @property
    def restarts(self) -> int:
        """Workers that appeared during the load: gunicorn recycled (max_requests)
        or replaced (a crash, a timeout) that many."""
        return len(self.peaks) - self.initial

    def sample(self) -> None:
        for pid in self.pids():
            hwm, rss = memory_mb(pid)  # 0 once it has exited
            self.peaks[pid] = max(self.peaks.get(pid, 0.0), hwm)
            self.rss = max(self.rss, rss)

    def run(self) -> None:
        while not self.halt.wait(self.every):
            self.sample()

    def stop(self) -> "RssSampler":
        self.halt.set()
        self.join()
        self.sample()
        return self
