"""`make bench`: load-test DinnerParty against a hello-world ceiling.

For each database (SQLite always, a file under var/bench/; PostgreSQL too when
DATABASE_URL points at one, in a database of its own, `dinnerparty_bench`) and
each size (1,000 then 100,000 parties with 10 RSVPs each, made by seed_demo):
start gunicorn as `make serve` does (gunicorn.conf.py, DJANGO_ENV=production;
DJANGO_SETTINGS_MODULE=bench.settings for the /bench/hello ceiling and the timed
hasher), log a pool of generated users in, and drive each endpoint with wrk at
16 connections for a fixed time after a short warm-up. Logins are held to the
Argon2 limit measured in the same run, from the workers' own password checks.

Prints a table and writes var/bench/results.json and var/bench/ratios.png. The
last line is `bench: all targets met` or `bench: targets missed: <names>`; the
exit code is 1 when a target is missed, 2 when the harness itself failed.

    .venv/bin/python bench/run.py [--duration 8] [--warmup 2] [--sizes 1000,100000]
                                  [--databases sqlite,postgres] [--keep]

The same settings come from BENCH_DURATION, BENCH_WARMUP, BENCH_SIZES and
BENCH_DATABASES, so `BENCH_DURATION=4 make bench` works too.
"""

import argparse
import base64
import contextlib
import html
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VAR = ROOT / "var" / "bench"
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
LUA = BENCH / "rotate.lua"
HASH_TIMES = VAR / "hash-times"  # the workers' password checks (bench.hashers)

SIZES = (1_000, 100_000)
RSVPS_PER_PARTY = 10
USERS = 200  # generated users: guest-0 … guest-199
PASSWORD = "dinner-party-demo-2026"  # noqa: S105 -- seed_demo's DEMO_PASSWORD, public by design
POOL = [f"guest-{i}" for i in range(100, 124)]  # logged-in users for GETs and RSVP POSTs
LOGIN_USERS = [f"guest-{i}" for i in range(150, 174)]  # logged in by the login run
CONNECTIONS = 16
THREADS = 2
PG_BENCH_DB = "dinnerparty_bench"

# Targets (issue 6). Ratios are to the hello-world ceiling's req/s in the same run.
RATIO_TARGETS = {"landing": 0.40, "list-p1": 0.20, "detail-50": 0.15, "rsvp": 0.15}
TARGET_SIZE = 100_000
P99_OVER_P50 = 5.0
PAGE_DEPTH_FACTOR = 1.3  # page 50 against page 1
GROWTH_FACTOR = 1.3  # the list at 100,000 parties against 1,000
LOGIN_SHARE = 0.90  # of the Argon2 limit
RSS_LIMIT_MB = 150.0
RUNTIME_LIMIT_S = 600.0
OTHERS_LIMIT = 0.10  # of one core: CPU that processes other than the benchmark's
# own (this harness and its children, the database server) used during a load run;
# above it the run still counts, with a warning


@dataclass(frozen=True)
class Endpoint:
    name: str
    label: str
    method: str
    expect: int
    auth: bool  # sent with the logged-in pool's cookies


ENDPOINTS = [
    Endpoint("hello", "/bench/hello (ceiling)", "GET", 200, auth=False),
    Endpoint("landing", "/ (anonymous)", "GET", 200, auth=False),
    Endpoint("list-p1", "/parties/ page 1", "GET", 200, auth=True),
    Endpoint("list-p50", "/parties/ page 50 (by Next)", "GET", 200, auth=True),
    # Page 1 once more, right after page 50: page 50 is compared with the mean of
    # the page 1 runs before and after it, so a drift in this machine's speed
    # over that half-minute weighs on both sides alike.
    Endpoint("list-p1-again", "/parties/ page 1, again", "GET", 200, auth=True),
    Endpoint("detail-50", "party detail, 50 guests", "GET", 200, auth=True),
    Endpoint("rsvp", "RSVP POST", "POST", 302, auth=True),
    Endpoint("login", "login POST", "POST", 302, auth=False),
]


# --- small helpers -------------------------------------------------------------


class Clock:
    """Prints each phase with the time it took and the time since the start."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.phases: list[dict] = []

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        say(f"[{self.elapsed():6.1f}s] {name} …")
        began = time.monotonic()
        try:
            yield
        finally:
            took = time.monotonic() - began
            self.phases.append({"phase": name, "seconds": round(took, 2)})
            say(f"[{self.elapsed():6.1f}s] {name}: {took:.1f}s")


def say(text: str) -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes() -> dict[int, tuple[int, str, int, int]]:
    """Every process now: pid -> (parent pid, command name, CPU ticks used so far,
    start time: a pid used again is another process)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text[text.rindex(")") + 2 :].split()
            found[int(stat.parent.name)] = (
                int(fields[1]),
                name,
                int(fields[11]) + int(fields[12]),
                int(fields[19]),
            )
    return found


def others_cpu(before: dict[int, tuple[int, str, int, int]], seconds: float) -> float:
    """CPU (in cores) that other processes used since `before`: not this harness or
    anything it started (gunicorn, wrk), and not the database server. Whatever else
    runs beside a benchmark (tests, a browser) takes CPU from the server and from
    wrk alike, but not evenly. (The 1-minute load average cannot tell: it stays
    high for a minute after the benchmark's own runs.)"""
    after = processes()
    ours = {os.getpid()} | {pid for pid, (_, name, *_) in after.items() if name == "postgres"}
    for pid in after:
        ancestor = pid
        for _ in range(64):  # up through its parents, to us or to the top
            if ancestor in ours or ancestor not in after:
                break
            ancestor = after[ancestor][0]
        if ancestor in ours:
            ours.add(pid)
    used = 0
    for pid, (_parent, _name, ticks, started) in after.items():
        if pid not in ours:
            previous = before.get(pid)
            used += ticks - previous[2] if previous and previous[3] == started else ticks
    return used / os.sysconf("SC_CLK_TCK") / max(seconds, 1e-6)


def lua_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def fmt_size(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


# --- databases ---------------------------------------------------------------


@dataclass
class Database:
    name: str
    url: str
    admin_url: str = ""  # PostgreSQL: where CREATE/DROP DATABASE is run

    def create(self) -> None:
        if self.name == "sqlite":
            self.drop()
            return
        from psycopg import connect, sql

        with connect(self.admin_url, autocommit=True) as conn:
            name = sql.Identifier(self.db_name)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))

    def drop(self) -> None:
        if self.name == "sqlite":
            path = Path(urllib.parse.urlparse(self.url).path)
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        from psycopg import connect, sql

        with connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.db_name)
                )
            )

    def settle(self) -> None:
        """Write out what seeding left in memory before anything is measured, so
        that flushing it (PostgreSQL's checkpointer, the kernel's writeback of
        a SQLite file) does not share the cores with the load runs. The load
        runs' own writes and checkpoints still count."""
        if self.name != "sqlite":
            from psycopg import Error, connect

            try:
                with connect(self.admin_url, autocommit=True) as conn:
                    conn.execute("CHECKPOINT")
            except Error as error:  # CHECKPOINT needs a superuser or pg_checkpoint
                say(f"    CHECKPOINT refused ({error}); the seed's writes may overlap the runs")
        os.sync()

    @property
    def db_name(self) -> str:
        return urllib.parse.urlparse(self.url).path.lstrip("/")


def databases(wanted: list[str]) -> list[Database]:
    found = [Database("sqlite", f"sqlite:///{VAR / 'bench.sqlite3'}")]
    given = os.environ.get("DATABASE_URL", "")
    if given.startswith(("postgres://", "postgresql://")):
        parts = urllib.parse.urlparse(given)
        bench_url = urllib.parse.urlunparse(parts._replace(path=f"/{PG_BENCH_DB}"))
        found.append(Database("postgres", bench_url, admin_url=given))
    elif "postgres" in wanted:
        say("bench: PostgreSQL skipped: DATABASE_URL does not point at one")
    return [db for db in found if db.name in wanted]


# --- subprocesses --------------------------------------------------------------


def django_env(db: Database, secret_key: str) -> dict[str, str]:
    """The environment of `make serve`, for the benchmark: production settings,
    the ceiling view mounted, plain HTTP on loopback, no real emails."""
    env = dict(os.environ)
    env.update(
        DJANGO_ENV="production",
        DJANGO_SETTINGS_MODULE="bench.settings",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1",
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
    return env


def run_logged(cmd: list[str], env: dict[str, str], log: Path) -> tuple[str, float]:
    """Run a command with its output in `log`; return its output and peak RSS (MB)."""
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603 -- our own fixed commands
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text()
    if proc.returncode:
        tail = "\n".join(text.splitlines()[-20:])
        raise RuntimeError(f"{' '.join(cmd[1:3])} failed ({proc.returncode}):\n{tail}")
    return text, usage.ru_maxrss / 1024


def manage(*args: str, env: dict[str, str], log: Path) -> tuple[str, float]:
    return run_logged([str(PYTHON), "manage.py", *args], env, log)


def last_json(text: str) -> dict:
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON in output:\n{text[-2000:]}")


# --- the server ----------------------------------------------------------------


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
    """Samples the workers' memory while a load runs. Workers are recycled
    (max_requests), so reading them only at the end would miss peaks. `hwm` is
    the largest VmHWM (a worker's peak since it started, the target); `rss`
    the largest VmRSS seen, which tells the endpoints apart (VmHWM keeps the
    peak of whatever the worker served before)."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.hwm = 0.0
        self.rss = 0.0
        self.seen: set[int] = set()
        self.halt = threading.Event()
        self.sample()
        self.initial = len(self.seen)

    @property
    def restarts(self) -> int:
        """Workers that appeared during the load: gunicorn recycled (max_requests)
        or replaced (a crash, a timeout) that many."""
        return len(self.seen) - self.initial

    def sample(self) -> None:
        for pid in self.server.workers():
            self.seen.add(pid)
            hwm, rss = memory_mb(pid)
            self.hwm, self.rss = max(self.hwm, hwm), max(self.rss, rss)

    def run(self) -> None:
        while not self.halt.wait(0.25):
            self.sample()

    def stop(self) -> "RssSampler":
        self.halt.set()
        self.join()
        self.sample()
        return self


# --- HTTP, cookies and CSRF ----------------------------------------------------


@dataclass
class Answer:
    status: int
    location: str
    cookies: dict[str, str | None]
    body: str


class Client:
    """One request per connection, as wrk against gunicorn's sync workers."""

    def __init__(self, port: int) -> None:
        self.port = port

    def request(
        self,
        method: str,
        path: str,
        *,
        cookies: dict[str, str | None] | None = None,
        form: dict[str, str] | None = None,
    ) -> Answer:
        headers = {}
        if cookies:
            headers["Cookie"] = cookie_header(cookies)
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            jar: dict[str, str | None] = {}
            for line in response.headers.get_all("Set-Cookie") or []:
                parsed = SimpleCookie()
                parsed.load(line)
                for name, morsel in parsed.items():
                    gone = morsel["max-age"] == "0" or morsel.value == ""
                    jar[name] = None if gone else morsel.value
            return Answer(response.status, response.getheader("Location", ""), jar, text)
        finally:
            conn.close()


def cookie_header(jar: dict[str, str | None]) -> str:
    # The messages cookie is a browser's leftover; the load sends none.
    return "; ".join(f"{k}={v}" for k, v in jar.items() if v and k != "messages")


def merge(jar: dict[str, str | None], new: dict[str, str | None]) -> dict[str, str | None]:
    out = {**jar, **new}
    return {k: v for k, v in out.items() if v}


def form_token(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return found.group(1) if found else ""


def message_errors(answer: Answer) -> list[str]:
    """Error messages (level ≥ 40) the response carries in Django's messages cookie."""
    value = (answer.cookies.get("messages") or "").strip('"')
    if not value:
        return []
    payload = value.rsplit(":", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(payload.lstrip(".") + "=" * (-len(payload) % 4))
        if payload.startswith("."):
            raw = zlib.decompress(raw)
        messages = json.loads(raw)
    except (ValueError, zlib.error):
        return []
    return [m[3] for m in messages if isinstance(m, list) and len(m) > 3 and m[2] >= 40]


@dataclass
class Session:
    username: str
    cookies: dict[str, str | None]
    token: str = ""  # a form's csrfmiddlewaretoken for these cookies


def log_in(client: Client, username: str) -> Session:
    page = client.request("GET", "/accounts/login/")
    jar = merge({}, page.cookies)
    token = form_token(page.body) or jar.get("csrftoken") or ""
    answer = client.request(
        "POST",
        "/accounts/login/",
        cookies=jar,
        form={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    jar = merge(jar, answer.cookies)
    if answer.status != 302 or "sessionid" not in jar:
        raise RuntimeError(f"login as {username} answered {answer.status}, not 302 with a session")
    return Session(username, jar)


def pool_sessions(port: int, rsvp_parties: dict[str, int]) -> dict[str, Session]:
    """Log the pool in (4 at a time: each login is one Argon2 hash) and fetch a
    CSRF form token for each from the page of the party they will reply to."""
    client = Client(port)

    def one(username: str) -> Session:
        session = log_in(client, username)
        page = client.request("GET", f"/parties/{rsvp_parties[username]}/", cookies=session.cookies)
        if page.status != 200:
            raise RuntimeError(f"party page for {username} answered {page.status}")
        session.cookies = merge(session.cookies, page.cookies)
        session.token = form_token(page.body) or session.cookies.get("csrftoken") or ""
        return session

    with ThreadPoolExecutor(max_workers=4) as pool:
        return {s.username: s for s in pool.map(one, list(rsvp_parties))}


NEXT_LINK = re.compile(r'href="(\?page=\d+&amp;after=\d+)">Next<')
DEEP_PAGE = 50


def deep_page_paths(port: int, sessions: dict[str, Session]) -> dict[str, str]:
    """Each pool user's page 50, reached as a person reaches it: "Next" from page 1
    (the links carry the last card, so the page starts there). Users with fewer
    pages are left out; with none at all, the list-p50 run is skipped."""
    client = Client(port)

    def walk(session: Session) -> tuple[str, str | None]:
        path = "/parties/"
        for _ in range(DEEP_PAGE - 1):
            answer = client.request("GET", path, cookies=session.cookies)
            found = NEXT_LINK.search(answer.body) if answer.status == 200 else None
            if found is None:
                return session.username, None
            path = "/parties/" + html.unescape(found.group(1))
        return session.username, path

    with ThreadPoolExecutor(max_workers=4) as pool:
        walked = pool.map(walk, list(sessions.values()))
    return {name: path for name, path in walked if path}


def pinned_argon2_limit(env: dict[str, str], seconds: float, log: Path) -> dict:
    """The hash rate of bench/argon2_rate.py: one process per core, pinned, with
    the server idle (a cross-check of the in-run limit, and one core's rate)."""
    # The site's settings, so the site's hasher itself, not the timed one.
    env = {**env, "DJANGO_SETTINGS_MODULE": "dinnerparty.settings"}
    out, _rss = run_logged(
        [str(PYTHON), str(BENCH / "argon2_rate.py"), "--seconds", str(seconds)], env, log
    )
    pinned = last_json(out)
    pinned["cores"] = pinned["cores_hashing"]
    pinned["limit"] = round(pinned["per_core"] * pinned["cores"], 2)
    say(
        f"    pinned Argon2 rate: {pinned['per_core']:.2f} hashes/s per core with all "
        f"{pinned['cores']} cores hashing = {pinned['limit']:.1f}/s "
        f"(one core alone: {pinned['single_core']:.2f}/s; {pinned['params']})"
    )
    return pinned


def hash_times_mark() -> dict[Path, int]:
    """How much each worker has written to its file of password-check times."""
    return {path: path.stat().st_size for path in HASH_TIMES.glob("*.txt")}


def hash_times_since(mark: dict[Path, int]) -> list[tuple[float, float]]:
    """(CPU seconds, wall seconds) of each password check the workers finished
    since `mark`."""
    checks = []
    for path in sorted(HASH_TIMES.glob("*.txt")):
        with path.open("rb") as times:
            times.seek(mark.get(path, 0))
            for line in times.read().decode().splitlines():
                cpu, wall = line.split()
                checks.append((float(cpu), float(wall)))
    return checks


def in_run_limit(checks: list[tuple[float, float]], cores: int) -> dict:
    """The Argon2 limit from the login run's own password checks: hashes per
    second of CPU, per core, × cores. Measured in the workers while they served
    the logins, so a change in this machine's speed during the run (it moves by
    more than 10% within seconds) weighs on the logins and on their limit alike.
    CPU time, not wall time: a check that waited for the CPU does not lower it."""
    if not checks:
        return {"hashes": 0, "limit": None}
    cpu = sum(c for c, _ in checks)
    wall = sum(w for _, w in checks)
    per_core = len(checks) / cpu
    limit = {
        "hashes": len(checks),
        "cpu_ms_per_hash": round(cpu / len(checks) * 1000, 2),
        "wall_ms_per_hash": round(wall / len(checks) * 1000, 2),
        "per_core": round(per_core, 2),
        "cores": cores,
        "limit": round(per_core * cores, 2),
    }
    say(
        f"    in-run Argon2 limit: {len(checks)} checks in the workers, "
        f"{limit['cpu_ms_per_hash']} ms of CPU each = {per_core:.2f}/s per core × "
        f"{cores} cores = {limit['limit']:.1f}/s"
    )
    return limit


def reuse_sessions(port: int, parties: dict[str, int], logged_in: dict) -> dict | None:
    if logged_in.get("parties") != parties:
        return None
    sessions = logged_in["sessions"]
    first = next(iter(sessions.values()))
    page = Client(port).request("GET", "/parties/", cookies=first.cookies)
    return sessions if page.status == 200 else None


# --- wrk -----------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


def write_spec(path: Path, expect: int, requests: list[Request]) -> None:
    lines = [f"return {{ expect = {expect}, threads = {THREADS}, requests = {{"]
    for r in requests:
        headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in r.headers.items())
        body = lua_string(r.body) if r.body is not None else "nil"
        lines.append(
            f"  {{ {lua_string(r.method)}, {lua_string(r.path)}, {{ {headers} }}, {body} }},"
        )
    lines.append("} }")
    path.write_text("\n".join(lines) + "\n")


def wrk(port: int, spec: Path, seconds: int, out: Path | None) -> dict:
    cmd = [
        shutil.which("wrk") or "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "15s",
        "--latency",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
        "--",
        str(spec),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)  # noqa: S603
    if out is not None:
        out.write_text(done.stdout + done.stderr)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"wrk gave no result ({done.returncode}):\n{done.stdout}\n{done.stderr}")


# --- one database at one size -------------------------------------------------


def build_requests(
    endpoint: Endpoint,
    prep: dict,
    sessions: dict[str, Session],
    login_csrf: tuple[dict, str],
) -> list[Request]:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    if endpoint.name == "hello":
        return [Request("GET", "/bench/hello")]
    if endpoint.name == "landing":
        return [Request("GET", "/")]
    if endpoint.name == "login":
        jar, token = login_csrf
        return [
            Request(
                "POST",
                "/accounts/login/",
                {**form, "Cookie": cookie_header(jar)},
                urllib.parse.urlencode(
                    {"username": user, "password": PASSWORD, "csrfmiddlewaretoken": token}
                ),
            )
            for user in LOGIN_USERS
        ]
    paths = {
        "list-p1": "/parties/",
        "list-p1-again": "/parties/",
        "detail-50": f"/parties/{prep['detail_party']}/",
    }
    if endpoint.name in paths:
        return [
            Request("GET", paths[endpoint.name], {"Cookie": cookie_header(s.cookies)})
            for s in sessions.values()
        ]
    if endpoint.name == "list-p50":
        deep = prep.get("page50_paths") or {}
        return [
            Request(
                "GET",
                deep.get(s.username, "/parties/?page=50"),
                {"Cookie": cookie_header(s.cookies)},
            )
            for s in sessions.values()
        ]
    # RSVP: every user's "going", then every user's "declined" (see rotate.lua).
    return [
        Request(
            "POST",
            f"/parties/{prep['rsvp_parties'][s.username]}/rsvp/",
            {**form, "Cookie": cookie_header(s.cookies)},
            urllib.parse.urlencode(
                {"status": status, "plus_ones": "0", "note": "", "csrfmiddlewaretoken": s.token}
            ),
        )
        for status in ("going", "declined")
        for s in sessions.values()
    ]


def precheck(client: Client, endpoint: Endpoint, request: Request) -> tuple[str, str]:
    """One request through Python first: ("ok" | "skip" | "error", why)."""
    cookies = {}
    if "Cookie" in request.headers:
        cookies = dict(p.split("=", 1) for p in request.headers["Cookie"].split("; ") if p)
    form = (
        dict(urllib.parse.parse_qsl(request.body, keep_blank_values=True)) if request.body else None
    )
    answer = client.request(request.method, request.path, cookies=cookies, form=form)
    if endpoint.name == "list-p50" and answer.status == 404:
        return "skip", "no page 50 at this size"
    if answer.status != endpoint.expect:
        return "error", f"{request.method} {request.path} answered {answer.status} " + (
            f"→ {answer.location}" if answer.location else ""
        )
    if "/accounts/login/" in answer.location and endpoint.name != "login":
        return "error", f"{request.path} sent a logged-in user to the login page"
    if endpoint.name == "rsvp":
        errors = message_errors(answer)
        if errors:
            return "error", f"RSVP refused: {errors[0]}"
    return "ok", ""


def bench_one(
    db: Database,
    size: int,
    env: dict[str, str],
    args: argparse.Namespace,
    clock: Clock,
    logged_in: dict,
) -> dict:
    """One database at one size. `logged_in` keeps the pool's sessions from the
    database's previous size (they live in the database), saving the logins."""
    tag = f"{db.name} {size:,}"
    run: dict = {"db": db.name, "size": size, "endpoints": {}}
    logs = VAR / "logs"
    with clock.phase(f"{tag}: seed_demo"):
        began = time.monotonic()
        _out, rss = manage(
            "seed_demo",
            "--users",
            str(USERS),
            "--parties",
            str(size),
            "--rsvps-per-party",
            str(RSVPS_PER_PARTY),
            env=env,
            log=logs / f"seed-{db.name}-{size}.log",
        )
        run["seed_seconds"] = round(time.monotonic() - began, 1)
        run["seed_peak_rss_mb"] = round(rss, 1)
    with clock.phase(f"{tag}: prepare (50-guest party, RSVP targets, cache cleared)"):
        out, _rss = run_logged(
            [str(PYTHON), str(BENCH / "prepare.py"), "--pool", ",".join(POOL)],
            env,
            logs / f"prepare-{db.name}-{size}.log",
        )
        prep = last_json(out)
        run["prepare"] = {k: v for k, v in prep.items() if k != "rsvp_parties"}
    with clock.phase(f"{tag}: settle (seed written to disk)"):
        db.settle()
    server = Server(env, logs / f"gunicorn-{db.name}-{size}.log")
    try:
        with clock.phase(f"{tag}: start gunicorn"):
            server.start()
            run["workers"] = len(server.workers())
        with clock.phase(f"{tag}: log in {len(POOL)} users"):
            sessions = reuse_sessions(server.port, prep["rsvp_parties"], logged_in)
            if sessions is None:
                sessions = pool_sessions(server.port, prep["rsvp_parties"])
            else:
                say("    sessions from the previous size still valid: reused")
            logged_in.update(parties=prep["rsvp_parties"], sessions=sessions)
            page = Client(server.port).request("GET", "/accounts/login/")
            jar = merge({}, page.cookies)
            login_csrf = (jar, form_token(page.body) or jar.get("csrftoken") or "")
        with clock.phase(f"{tag}: page {DEEP_PAGE} for each user, by Next links"):
            prep["page50_paths"] = deep_page_paths(server.port, sessions)
            say(f"    {len(prep['page50_paths'])} of {len(sessions)} users have a page {DEEP_PAGE}")
        client = Client(server.port)
        overall = RssSampler(server)
        overall.start()
        for endpoint in ENDPOINTS:
            last = endpoint is ENDPOINTS[-1]
            requests = build_requests(endpoint, prep, sessions, login_csrf)
            spec = VAR / "specs" / f"{db.name}-{size}-{endpoint.name}.lua"
            write_spec(spec, endpoint.expect, requests)
            result: dict = {"label": endpoint.label, "path": requests[0].path}
            run["endpoints"][endpoint.name] = result
            if endpoint.name == "list-p1-again" and run["endpoints"]["list-p50"].get("rps") is None:
                result.update(status="skip", note="only to compare with page 50, not run")
                continue
            with clock.phase(f"{tag}: {endpoint.name}"):
                verdict, why = precheck(client, endpoint, requests[0])
                if verdict != "ok":
                    result.update(status=verdict, note=why)
                    say(f"    {endpoint.name}: {verdict}: {why}")
                    continue
                if endpoint.name == "login":
                    pinned = pinned_argon2_limit(
                        env, args.argon2_seconds, logs / f"argon2-{db.name}-{size}.log"
                    )
                if args.warmup:
                    wrk(server.port, spec, args.warmup, None)
                    server.drain()
                checks_mark = hash_times_mark()
                sampler = RssSampler(server)
                sampler.start()
                before, began = processes(), time.monotonic()
                stats = wrk(server.port, spec, args.duration, VAR / "wrk" / spec.stem)
                others = others_cpu(before, time.monotonic() - began)
                memory = sampler.stop()
                if endpoint.name == "login":
                    # The checks of the requests wrk left queued count too: they
                    # ran at this moment's speed.
                    server.drain()
                    limit = in_run_limit(hash_times_since(checks_mark), pinned["cores"])
                    run["argon2"] = {
                        **{k: pinned[k] for k in ("algorithm", "hasher", "params", "cores")},
                        "limit": limit["limit"],
                        "in_run": limit,
                        "pinned": pinned,
                    }
                elif not last:
                    server.drain()
            seconds = stats["duration_us"] / 1e6
            errors = sum(stats[k] for k in ("connect", "read", "write", "status", "timeout"))
            errors += stats["unexpected"]
            if stats["requests"] == 0:
                errors += 1
                stats["first_unexpected"] = "no request finished in time"
            result.update(
                status="ok" if errors == 0 else "errors",
                requests=stats["requests"],
                rps=round(stats["requests"] / seconds, 1),
                p50_ms=round(stats["p50_us"] / 1000, 2),
                p90_ms=round(stats["p90_us"] / 1000, 2),
                p99_ms=round(stats["p99_us"] / 1000, 2),
                max_ms=round(stats["max_us"] / 1000, 2),
                errors={k: stats[k] for k in ("connect", "read", "write", "status", "timeout")}
                | {"unexpected_status": stats["unexpected"]},
                worker_rss_mb=round(memory.rss, 1),
                worker_restarts=memory.restarts,
                worker_peak_rss_mb=round(memory.hwm, 1),
                others_cpu=round(others, 3),
            )
            notes = []
            if errors:
                notes.append(f"{errors} errors; first: {stats['first_unexpected'] or 'socket'}")
            if memory.restarts:
                notes.append(f"{memory.restarts} worker restarts")
            if notes:
                result["note"] = "; ".join(notes)
            say(
                f"    {endpoint.name}: {result['rps']:,.0f} req/s, p50 {result['p50_ms']} ms, "
                f"p99 {result['p99_ms']} ms, errors {errors}, worker RSS {memory.rss:.0f} MB"
            )
        run["worker_peak_rss_mb"] = round(overall.stop().hwm, 1)
    finally:
        server.stop()
    busiest = max((r.get("others_cpu", 0) for r in run["endpoints"].values()), default=0)
    run["others_cpu_max"] = busiest
    if busiest > OTHERS_LIMIT:
        say(
            f"    warning: other processes used {busiest:.0%} of a core during a load run: "
            "they shared the CPU, so these figures are low and noisy"
        )
    ceiling = run["endpoints"].get("hello", {}).get("rps")
    for result in run["endpoints"].values():
        if ceiling and "rps" in result:
            result["ratio"] = round(result["rps"] / ceiling, 4)
    return run


# --- targets, table, chart -----------------------------------------------------


@dataclass
class Target:
    name: str
    ok: bool
    detail: str


def evaluate(runs: list[dict], runtime: float) -> list[Target]:
    targets: list[Target] = []
    by_key = {(r["db"], r["size"]): r for r in runs}
    for db in dict.fromkeys(r["db"] for r in runs):
        big = by_key.get((db, TARGET_SIZE), {}).get("endpoints", {})
        small = by_key.get((db, 1_000), {}).get("endpoints", {})
        for name, share in RATIO_TARGETS.items():
            ratio = big.get(name, {}).get("ratio")
            ok = ratio is not None and ratio >= share and big[name]["status"] == "ok"
            got = f"{ratio:.1%}" if ratio is not None else "not measured"
            targets.append(
                Target(f"{db}/{name}-ratio", ok, f"{got} of ceiling, need ≥ {share:.0%}")
            )
        for run in (r for r in runs if r["db"] == db):
            size = fmt_size(run["size"])
            for name, result in run["endpoints"].items():
                if result.get("status") == "skip":
                    continue
                if result.get("status") != "ok":
                    targets.append(
                        Target(f"{db}/{name}-{size}-errors", False, result.get("note", "failed"))
                    )
                    continue
                factor = result["p99_ms"] / result["p50_ms"] if result["p50_ms"] else 0
                targets.append(
                    Target(
                        f"{db}/{name}-{size}-p99",
                        factor < P99_OVER_P50,
                        f"p99 {result['p99_ms']} ms = {factor:.1f}× p50, need < {P99_OVER_P50:g}×",
                    )
                )
            p1 = bracket(run["endpoints"].get("list-p1", {}), run["endpoints"].get("list-p1-again"))
            p50 = run["endpoints"].get("list-p50", {})
            if p50.get("status") == "skip" and run["size"] != TARGET_SIZE:
                pass  # a small set has no page 50; the target is checked at the large size
            else:
                label = (
                    "page 1"
                    if p1 is run["endpoints"].get("list-p1")
                    else "page 1 (runs before and after)"
                )
                targets.append(depth_target(f"{db}/page50-{size}", p1, p50, "page 50", label))
            rss = run.get("worker_peak_rss_mb")
            targets.append(
                Target(
                    f"{db}/worker-rss-{size}",
                    rss is not None and rss < RSS_LIMIT_MB,
                    f"peak worker RSS {rss} MB, need < {RSS_LIMIT_MB:g} MB",
                )
            )
            login, argon2 = run["endpoints"].get("login", {}), run.get("argon2")
            if argon2 and argon2.get("limit") and login.get("rps") is not None:
                share = login["rps"] / argon2["limit"]
                pinned = argon2["pinned"]["limit"]
                targets.append(
                    Target(
                        f"{db}/login-argon2-{size}",
                        share >= LOGIN_SHARE and login["status"] == "ok",
                        f"{login['rps']:.1f} req/s = {share:.0%} of the in-run Argon2 limit "
                        f"{argon2['limit']:.1f}/s, need ≥ {LOGIN_SHARE:.0%} "
                        f"(pinned rate before the run: {pinned:.1f}/s, "
                        f"{login['rps'] / pinned:.0%})",
                    )
                )
            else:
                targets.append(Target(f"{db}/login-argon2-{size}", False, "not measured"))
        targets.append(
            depth_target(
                f"{db}/list-100k-vs-1k",
                small.get("list-p1", {}),
                big.get("list-p1", {}),
                "100k",
                "1k",
            )
        )
    targets.append(
        Target(
            "runtime",
            runtime < RUNTIME_LIMIT_S,
            f"whole run {runtime:.0f} s, need < {RUNTIME_LIMIT_S:.0f} s",
        )
    )
    return targets


def bracket(before: dict, after: dict | None) -> dict:
    """The mean of two runs of one endpoint, one before and one after another
    endpoint's run, as one result to compare that run with."""
    if not after or after.get("rps") is None or before.get("rps") is None:
        return before
    mean = {**before}
    for key in ("rps", "ratio", "p50_ms"):
        if before.get(key) is not None and after.get(key) is not None:
            mean[key] = (before[key] + after[key]) / 2
    if after.get("status") != "ok":
        mean["status"] = after["status"]
    return mean


def depth_target(name: str, base: dict, other: dict, other_label: str, base_label: str) -> Target:
    """`other` within 1.3× of `base`, by req/s or by median latency (either will do).

    req/s are compared as shares of each one's own hello-world ceiling: the two
    sizes are served minutes apart, and this machine's speed drifts by more than
    the 1.3× allowed between them (page 1 and page 50 share one ceiling anyway)."""
    if not base.get("rps") or not other.get("rps"):
        return Target(name, False, f"not measured ({other_label} or {base_label} missing)")
    measure = "ratio" if base.get("ratio") and other.get("ratio") else "rps"
    by_rps = base[measure] / other[measure]
    by_p50 = other["p50_ms"] / base["p50_ms"] if base["p50_ms"] else float("inf")
    ok = min(by_rps, by_p50) <= PAGE_DEPTH_FACTOR and other.get("status") == "ok"
    raw = f", {base['rps'] / other['rps']:.2f}× by raw req/s" if measure == "ratio" else ""
    return Target(
        name,
        ok,
        f"{other_label} costs {by_rps:.2f}× {base_label} by req/s as a share of the ceiling"
        f"{raw}, {by_p50:.2f}× by p50; need ≤ {PAGE_DEPTH_FACTOR:g}× by either",
    )


def table(runs: list[dict]) -> str:
    head = (
        f"{'endpoint':<26} {'size':>5} {'db':<8} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} "
        f"{'ratio':>7} {'RSS MB':>7}  note"
    )
    lines = [head, "-" * len(head)]
    for name in [e.name for e in ENDPOINTS]:
        for run in runs:
            r = run["endpoints"].get(name)
            if r is None:
                continue
            label = r["label"]
            size = fmt_size(run["size"])
            if "rps" not in r:
                lines.append(
                    f"{label:<26} {size:>5} {run['db']:<8} {'—':>9} {'—':>9} {'—':>9} "
                    f"{'—':>7} {'—':>7}  {r.get('status')}: {r.get('note', '')}"
                )
                continue
            notes = []
            if name == "login" and (run.get("argon2") or {}).get("limit"):
                limit = run["argon2"]["limit"]
                notes.append(f"{r['rps'] / limit:.0%} of in-run Argon2 limit {limit:.1f}/s")
            if r.get("note"):
                notes.append(r["note"])
            ratio = f"{r['ratio']:.1%}" if "ratio" in r else "—"
            lines.append(
                f"{label:<26} {size:>5} {run['db']:<8} {r['rps']:>9,.1f} {r['p50_ms']:>9.2f} "
                f"{r['p99_ms']:>9.2f} {ratio:>7} {r['worker_rss_mb']:>7.0f}  {'; '.join(notes)}"
            )
    lines.append("")
    for run in runs:
        lines.append(
            f"{run['db']:<8} {fmt_size(run['size']):>5}: {run.get('workers', '?')} workers, "
            f"peak worker RSS {run.get('worker_peak_rss_mb', '?')} MB, "
            f"seed {run.get('seed_seconds', '?')} s "
            f"(peak RSS {run.get('seed_peak_rss_mb', '?')} MB), other processes at most "
            f"{run.get('others_cpu_max', 0):.0%} of a core during a load run"
        )
    argon2 = next((run["argon2"] for run in runs if run.get("argon2")), None)
    if argon2:
        lines.append(
            f"Argon2 limit = hashes/s per core of {argon2['hasher']} {argon2['params']} × "
            f"{argon2['cores']} cores, from the CPU time of the workers' own password checks "
            "during the login run"
        )
    return "\n".join(lines)


def chart(runs: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [e.name for e in ENDPOINTS if e.name not in ("hello", "list-p1-again")]
    dbs = list(dict.fromkeys(r["db"] for r in runs))
    sizes = sorted({r["size"] for r in runs})
    fig, axes = plt.subplots(1, len(dbs), figsize=(6.5 * len(dbs), 4.8), sharey=True, squeeze=False)
    width = 0.8 / max(len(sizes), 1)
    top = 0.5
    for ax, db in zip(axes[0], dbs, strict=True):
        for i, size in enumerate(sizes):
            run = next((r for r in runs if r["db"] == db and r["size"] == size), None)
            results = [(run or {}).get("endpoints", {}).get(n, {}) for n in names]
            values = [r.get("ratio") or 0.0 for r in results]
            top = max(top, *values)
            xs = [x + (i - (len(sizes) - 1) / 2) * width for x in range(len(names))]
            bars = ax.bar(xs, values, width, label=f"{size:,} parties")
            labels = [f"{v:.0%}" if v >= 0.1 else f"{v:.1%}" if v else "n/a" for v in values]
            labels = [
                "error" if r.get("status") == "error" else label
                for r, label in zip(results, labels, strict=True)
            ]
            ax.bar_label(bars, labels=labels, fontsize=7)
        for x, n in enumerate(names):
            if n in RATIO_TARGETS:
                ax.hlines(RATIO_TARGETS[n], x - 0.45, x + 0.45, colors="black", linestyles="dashed")
        ax.set_xticks(range(len(names)), names, rotation=20)
        ax.set_title(db)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("share of /bench/hello req/s (dashed: target at 100k)")
    axes[0][0].yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    axes[0][0].set_ylim(0, min(1.1, top * 1.15))
    axes[0][-1].legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- main ----------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=int(env("BENCH_DURATION", "8")))
    parser.add_argument("--warmup", type=int, default=int(env("BENCH_WARMUP", "2")))
    parser.add_argument("--sizes", default=env("BENCH_SIZES", ",".join(map(str, SIZES))))
    parser.add_argument("--databases", default=env("BENCH_DATABASES", "sqlite,postgres"))
    parser.add_argument("--argon2-seconds", type=float, default=3.0)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    args = parser.parse_args()
    args.sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(",") if s)
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    return args


def main() -> int:
    args = parse_args()
    clock = Clock()
    if not shutil.which("wrk"):
        say("bench: wrk not found: `apt-get install wrk` (make bench does it)")
        say("bench: targets missed: harness-error")
        return 2
    for sub in ("logs", "specs", "wrk"):
        (VAR / sub).mkdir(parents=True, exist_ok=True)
    shutil.rmtree(HASH_TIMES, ignore_errors=True)  # a previous run's workers'
    secret_key = secrets.token_urlsafe(50)
    dbs = databases(args.databases)
    runs: list[dict] = []
    failures: list[str] = []
    say(
        f"bench: {', '.join(d.name for d in dbs)} × {', '.join(f'{s:,}' for s in args.sizes)} "
        f"parties; wrk -t{THREADS} -c{CONNECTIONS}, {args.warmup}s warm-up + "
        f"{args.duration}s per endpoint; {os.cpu_count()} cores"
    )
    try:
        env = django_env(dbs[0], secret_key)
        with clock.phase("collectstatic"):
            manage("collectstatic", "--noinput", env=env, log=VAR / "logs" / "collectstatic.log")
        for db in dbs:
            env = django_env(db, secret_key)
            try:
                with clock.phase(f"{db.name}: create database and migrate"):
                    db.create()
                    manage(
                        "migrate", "--noinput", env=env, log=VAR / "logs" / f"migrate-{db.name}.log"
                    )
                logged_in: dict = {}
                for size in args.sizes:
                    try:
                        runs.append(bench_one(db, size, env, args, clock, logged_in))
                    except Exception as error:  # noqa: BLE001 -- record it, go on to the next
                        say(f"bench: {db.name} {size:,} failed: {error}")
                        failures.append(f"{db.name}/{fmt_size(size)}-run-failed")
            except Exception as error:  # noqa: BLE001
                say(f"bench: {db.name} failed: {error}")
                failures.append(f"{db.name}/setup-failed")
            finally:
                if not args.keep:
                    with contextlib.suppress(Exception):
                        db.drop()
    except Exception:  # noqa: BLE001 -- the summary line must still come last
        traceback.print_exc()
        failures.append("harness-error")
    runtime = clock.elapsed()
    targets = evaluate(runs, runtime) if runs else []
    missed = failures + [t.name for t in targets if not t.ok]
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "platform": sys.platform},
        "settings": {
            "connections": CONNECTIONS,
            "threads": THREADS,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "sizes": args.sizes,
            "rsvps_per_party": RSVPS_PER_PARTY,
            "pool_users": len(POOL),
        },
        "runs": runs,
        "targets": [t.__dict__ for t in targets],
        "missed": missed,
        "phases": clock.phases,
        "runtime_s": round(runtime, 1),
    }
    (VAR / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    say("")
    say(table(runs))
    say("")
    for t in targets:
        say(f"  {'ok  ' if t.ok else 'MISS'} {t.name}: {t.detail}")
    if runs:
        try:
            title = (
                "DinnerParty: req/s as a share of hello-world — "
                f"{results['date'][:10]}, {os.cpu_count()} cores"
            )
            chart(runs, VAR / "ratios.png", title)
            say(f"\nwrote {VAR / 'results.json'} and {VAR / 'ratios.png'}")
        except Exception as error:  # noqa: BLE001
            say(f"bench: chart failed: {error}")
            missed.append("chart")
    say(f"total {runtime:.0f} s")
    if missed:
        say(f"bench: targets missed: {', '.join(missed)}")
        return 2 if "harness-error" in missed else 1
    say("bench: all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
