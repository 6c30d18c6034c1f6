"""What the fault, burst, cluster and soak runs share: a PostgreSQL database and a
Redis of their own (and, for the faults, a PostgreSQL server of their own to
restart), `make serve`'s gunicorn and `make worker`'s worker started as they are in
production, a browser-like HTTP client, the visitors' traffic, seeding, and the
checks made from the database afterwards.

Nothing here touches anything it did not start: the runs use the database
OPS_DATABASE (default `dinnerparty_ops`) on the PostgreSQL server OPS_POSTGRES
(default postgres://postgres@127.0.0.1:5432), which they drop and create, and a
Redis they start themselves on OPS_REDIS_PORT (default 6390), never the one on 6379.
`make faults` restarts PostgreSQL, so it runs on a server it makes itself
(`PrivateCluster`: initdb and pg_ctl in var/ops/postgres/, OPS_PG_PORT), never the
shared one.
"""

import contextlib
import glob
import http.client
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "ops"
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
PASSWORD = "ops-run-password-not-secret-2026"  # noqa: S105 -- accounts made for the run
FRIENDLY_503 = "be back in a moment"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Redis of our own -------------------------------------------------------------------------


class PrivateRedis:
    """redis-server on its own port, no persistence: ours to stop and start."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or int(os.environ.get("OPS_REDIS_PORT") or "6390")
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        VAR.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(VAR),
            ],
            stdout=(VAR / f"redis-{self.port}.log").open("a"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.1)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


# --- PostgreSQL database of our own ---------------------------------------------------------


class PrivateDatabase:
    """A database of the run's own on the shared server: created, faulted, dropped."""

    def __init__(self, name: str | None = None, server: str | None = None) -> None:
        self.server = (
            server or os.environ.get("OPS_POSTGRES") or "postgres://postgres@127.0.0.1:5432"
        ).rstrip("/")
        self.name = name or os.environ.get("OPS_DATABASE") or "dinnerparty_ops"
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", self.name):
            raise SystemExit(f"OPS_DATABASE must be a plain lower-case name, not {self.name!r}")

    @property
    def url(self) -> str:
        return f"{self.server}/{self.name}"

    def admin(self) -> "psycopg.Connection":
        import psycopg

        return psycopg.connect(f"{self.server}/postgres", autocommit=True)

    def create(self) -> None:
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def waiting_on_locks(self) -> int:
        """Connections to this database waiting for a lock."""
        with self.admin() as conn:
            (count,) = conn.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = %s AND wait_event_type = 'Lock'",
                [self.name],
            ).fetchone()
        return count


class PrivateCluster:
    """A PostgreSQL server of the run's own, to restart as a fault: `initdb` (trust
    auth) into var/ops/postgres/data, `pg_ctl start` on OPS_PG_PORT (default: a free
    port), listening on loopback only. Made afresh by `start()` on every run and
    removed by `remove()`; run as the `postgres` user when we are root (PostgreSQL
    refuses to run as root). The binaries come from OPS_PG_BIN, else `pg_ctl` on the
    PATH, else the newest /usr/lib/postgresql/*/bin (Debian's packages)."""

    def __init__(self, port: int | None = None, home: Path | None = None) -> None:
        self.port = port or int(os.environ.get("OPS_PG_PORT") or free_port())
        self.home = home or VAR / "postgres"
        self.data = self.home / "data"
        self.log = self.home / "server.log"
        self.bin = postgres_bin()

    @property
    def server(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True)

    def _running(self) -> bool:
        if not self.data.exists():
            return False
        return self._run("pg_ctl", "status", "-D", str(self.data), check=False).returncode == 0

    def start(self) -> None:
        """Make the server if it is not there, then start it and wait until it answers."""
        if not (self.data / "PG_VERSION").exists():
            self.remove()
            self.home.mkdir(parents=True)
            if os.geteuid() == 0:
                shutil.chown(self.home, "postgres", "postgres")
            self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--no-sync",
            )  # fmt: skip
        if self._running():
            return
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.home}"
        )
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log),
                  "-o", options)  # fmt: skip

    def stop(self) -> None:
        """`pg_ctl stop -m fast`: every connection terminated, as a restart does."""
        if self._running():
            self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data))

    def remove(self) -> None:
        """Stop the server (if running) and delete its files."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.home, ignore_errors=True)


def postgres_bin() -> Path:
    """The directory of PostgreSQL's server programs (initdb, pg_ctl)."""
    if os.environ.get("OPS_PG_BIN"):
        return Path(os.environ["OPS_PG_BIN"])
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    if not versions:
        raise SystemExit(
            "PostgreSQL's server programs (initdb, pg_ctl) were not found: install the "
            "Debian package postgresql, or set OPS_PG_BIN to their directory."
        )
    return Path(versions[-1]).parent


# --- the site's processes ---------------------------------------------------------------------


def web_concurrency() -> int:
    """gunicorn workers per server in the runs: WEB_CONCURRENCY, else 2."""
    return int(os.environ.get("WEB_CONCURRENCY") or "2")


def site_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """`make serve`'s environment: production settings on plain HTTP over loopback."""
    env = dict(os.environ)
    for name in ("BEHIND_HTTPS_PROXY", "DJANGO_SETTINGS_MODULE", "TASKS_BACKEND", "DEBUG"):
        env.pop(name, None)
    env.update(
        DJANGO_ENV="production",
        SECRET_KEY=os.environ.get("OPS_SECRET_KEY") or secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL="http://127.0.0.1",
        HOST="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        # The run's accounts (@example.com) are never mailed; emails are still built.
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        PYTHONUNBUFFERED="1",
        WEB_CONCURRENCY=str(web_concurrency()),
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, check=True)


def prepare_site(env: dict[str, str]) -> None:
    """What `make serve` does before starting gunicorn. OPS_COLLECTSTATIC=0 skips
    `collectstatic` when an earlier run of the same checkout has just done it
    (.ci/reliability: the files are the same, and each pass costs seconds)."""
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    if os.environ.get("OPS_COLLECTSTATIC", "1") != "0":
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")


class Server:
    """gunicorn as `make serve` starts it (gunicorn.conf.py), on `port`."""

    def __init__(self, env: dict[str, str], port: int, name: str = "web") -> None:
        self.port = port
        self.env = {**env, "PORT": str(port)}
        self.log = VAR / f"{name}-{port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        VAR.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [str(GUNICORN), "--config", "gunicorn.conf.py", "dinnerparty.wsgi"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.tail()}")
            with contextlib.suppress(OSError):
                if Browser(self.port).get("/healthz").status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz in 60 s:\n{self.tail()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def workers(self) -> list[int]:
        if self.proc is None or self.proc.poll() is not None:
            return []
        pid = self.proc.pid
        try:
            return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    def log_offset(self) -> int:
        """Where the log ends now: pass it to `request_errors_since`."""
        return self.log.stat().st_size if self.log.exists() else 0

    def request_errors_since(self, offset: int) -> list[str]:
        """Django's ERROR lines (an error response logged with its traceback) written
        to the log after `offset`."""
        with self.log.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        return [
            line
            for line in text.splitlines()
            if "level=ERROR" in line and "logger=django.request" in line
        ]

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


class TaskWorker(threading.Thread):
    """`manage.py worker`, restarted when it exits, as systemd's Restart=always does."""

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.halt = threading.Event()
        self.restarts = -1
        self.log = VAR / "worker.log"

    def run(self) -> None:
        with self.log.open("w") as out:
            while not self.halt.is_set():
                self.restarts += 1
                self.proc = subprocess.Popen(
                    [str(PYTHON), "manage.py", "worker", "--sweep-every", "5"],
                    cwd=ROOT,
                    # A task whose worker lost its database connection mid-task
                    # stays RUNNING until the lease runs out: a short one here
                    # (the emails take milliseconds), so the runs see it re-run.
                    env={"TASK_LEASE_SECONDS": "15", **self.env},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                while self.proc.poll() is None and not self.halt.is_set():
                    time.sleep(0.2)
                if not self.halt.is_set():
                    time.sleep(1)

    def stop(self) -> None:
        self.halt.set()
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.join(timeout=5)


# --- a browser-like client ---------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no HTTP answer (connection refused or reset, timeout)
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400

    @property
    def friendly_503(self) -> bool:
        return self.status == 503 and "retry-after" in self.headers and FRIENDLY_503 in self.body


TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    """One visitor: cookies kept by hand (the site's are Secure; this is plain HTTP on
    loopback), one connection per request, redirects not followed."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.token = ""

    def request(self, method: str, path: str, form: dict | None = None) -> Answer:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            for line in response.headers.get_all("Set-Cookie") or []:
                parsed = SimpleCookie()
                parsed.load(line)
                for name, morsel in parsed.items():
                    if morsel["max-age"] == "0" or morsel.value == "":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            found = TOKEN.search(text)
            if found:
                self.token = found.group(1)
            return Answer(
                response.status,
                text,
                {k.lower(): v for k, v in response.getheaders()},
                time.monotonic() - started,
            )
        except (OSError, http.client.HTTPException) as error:
            return Answer(0, seconds=time.monotonic() - started, error=type(error).__name__)
        finally:
            conn.close()

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, form: dict) -> Answer:
        return self.request("POST", path, {**form, "csrfmiddlewaretoken": self.token})

    def log_in(self, username: str) -> Answer:
        page = self.get("/accounts/login/")
        if not page.ok:
            return page
        return self.post("/accounts/login/", {"username": username, "password": PASSWORD})


# --- the visitors' traffic (faults, cluster, soak) ---------------------------------------


@dataclass
class Hit:
    at: float
    phase: str
    kind: str
    answer: Answer


@dataclass
class Reply:
    phase: str
    party: int
    user: str
    wanted: str
    answer: Answer


@dataclass
class Traffic:
    """Visitors, each a thread logged in as its own guest, browsing and replying."""

    port: int
    users: list[str]
    parties: list[int]
    phase: str = "warm-up"
    hits: list[Hit] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    running: threading.Event = field(default_factory=threading.Event)
    halt: threading.Event = field(default_factory=threading.Event)
    busy: int = 0
    threads: list[threading.Thread] = field(default_factory=list)
    # Called before each visit step (the list, a party page, a reply): the soak's pace.
    gate: Callable[[], None] | None = None

    def start(self) -> None:
        self.running.set()
        for index, user in enumerate(self.users):
            thread = threading.Thread(target=self.visit, args=(index, user), daemon=True)
            thread.start()
            self.threads.append(thread)

    def record(self, kind: str, answer: Answer) -> Answer:
        with self.lock:
            self.hits.append(Hit(time.monotonic(), self.phase, kind, answer))
        return answer

    def visit(self, index: int, user: str) -> None:
        rng = random.Random(index)
        browser = Browser(self.port, timeout=30)
        logged_in = False
        step = 0
        while not self.halt.is_set():
            self.running.wait()
            if self.gate is not None:
                self.gate()
            if self.halt.is_set():
                return
            with self.lock:
                self.busy += 1
            try:
                if not logged_in or step % 25 == 24:
                    if logged_in:
                        self.record("logout", browser.post("/accounts/logout/", {}))
                    browser.cookies.clear()
                    answer = self.record("login", browser.log_in(user))
                    logged_in = answer.status == 302
                    if not logged_in:
                        time.sleep(0.5)
                        continue
                step += 1
                self.record("list", browser.get("/parties/"))
                party = self.parties[rng.randrange(len(self.parties))]
                page = self.record("page", browser.get(f"/parties/{party}/"))
                if page.status != 200:
                    time.sleep(0.2)
                    continue
                wanted = rng.choice(["going", "going", "declined"])
                answer = browser.post(
                    f"/parties/{party}/rsvp/", {"status": wanted, "plus_ones": "0", "note": ""}
                )
                self.record("rsvp", answer)
                with self.lock:
                    self.replies.append(Reply(self.phase, party, user, wanted, answer))
                if answer.status == 302:
                    self.record("page", browser.get(f"/parties/{party}/"))
            finally:
                with self.lock:
                    self.busy -= 1
            time.sleep(rng.uniform(0.02, 0.08))

    def pause(self) -> None:
        """Stop starting requests and wait for those in flight (up to 40 s)."""
        self.running.clear()
        deadline = time.monotonic() + 40
        while self.busy and time.monotonic() < deadline:
            time.sleep(0.05)

    def resume(self, phase: str) -> None:
        self.phase = phase
        self.running.set()

    def stop(self) -> None:
        self.halt.set()
        self.running.set()
        for thread in self.threads:
            thread.join(timeout=40)


# --- Django in this process (seeding and checks) --------------------------------------------


def use_django(env: dict[str, str]) -> None:
    """Set up Django here with the servers' settings, to seed and to check."""
    os.environ.update({k: v for k, v in env.items() if k not in {"PORT"}})
    os.environ["DJANGO_SETTINGS_MODULE"] = "dinnerparty.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed(*, guests: int, parties: int, seats: int, prefix: str = "ops") -> tuple[list, list]:
    """`guests` accounts (`<prefix>-guest-N`, PASSWORD) and `parties` public parties
    with `seats` seats, hosted by `<prefix>-host`. Returns (usernames, party ids)."""
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import User
    from parties.models import DinnerParty, Visibility

    password = make_password(PASSWORD)
    now = timezone.now()
    host = User.objects.create(
        username=f"{prefix}-host",
        email=f"{prefix}-host@example.com",
        password=password,
        email_confirmed_at=now,
    )
    names = [f"{prefix}-guest-{i}" for i in range(guests)]
    User.objects.bulk_create(
        User(username=n, email=f"{n}@example.com", password=password, email_confirmed_at=now)
        for n in names
    )
    made = [
        DinnerParty.objects.create(
            host=host,
            title=f"{prefix.title()} dinner {i + 1}",
            starts_at=now + timedelta(days=7 + i),
            timezone="UTC",
            venue="1 Test Street",
            main_dish="Soup",
            seats=seats,
            visibility=Visibility.PUBLIC,
        )
        for i in range(parties)
    ]
    return names, [p.pk for p in made]


def seat_invariant_breaks() -> list[str]:
    """Parties whose `seats_taken` is not the seats their going replies hold, or above seats."""
    from django.db import connection
    from django.db.models import Count, IntegerField, Q, Sum, Value
    from django.db.models.functions import Coalesce

    from parties.models import DinnerParty, RSVPStatus

    connection.close()
    going = Q(rsvps__status=RSVPStatus.GOING)
    rows = DinnerParty.objects.annotate(
        counted=Count("rsvps", filter=going)
        + Coalesce(Sum("rsvps__plus_ones", filter=going), Value(0), output_field=IntegerField())
    ).values_list("pk", "seats", "seats_taken", "counted")
    return [
        f"party {pk}: seats_taken={taken}, replies hold {counted}, seats={seats}"
        for pk, seats, taken, counted in rows
        if taken != counted or taken > seats
    ]


def stored_replies() -> dict[tuple[int, str], str]:
    """(party id, username) → status, for every reply in the database."""
    from django.db import connection

    from parties.models import RSVP

    connection.close()
    return {
        (party, name): status
        for party, name, status in RSVP.objects.values_list("party_id", "guest__username", "status")
    }


def tasks_by_status() -> dict[str, int]:
    from django.db import connection
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    connection.close()
    return dict(DBTaskResult.objects.values_list("status").annotate(n=Count("id")))


def wait_for_tasks(seconds: float) -> dict[str, int]:
    """Task counts once none is waiting or running (or after `seconds`)."""
    deadline = time.monotonic() + seconds
    while True:
        counts = tasks_by_status()
        if not counts.get("READY") and not counts.get("RUNNING"):
            return counts
        if time.monotonic() > deadline:
            return counts
        time.sleep(0.5)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextlib.contextmanager
def stack(*parts: Callable[[], object]) -> Iterator[None]:
    """Stop what was started, last first, whatever happens."""
    try:
        yield
    finally:
        for stop in reversed(parts):
            with contextlib.suppress(Exception):
                stop()


@dataclass
class Site:
    """A running site: its settings, gunicorn, the task worker (if any), and the
    seeded guests and parties."""

    env: dict[str, str]
    server: Server
    worker: "TaskWorker | None"
    users: list[str]
    parties: list[int]


@contextlib.contextmanager
def running_site(
    database: PrivateDatabase,
    redis: PrivateRedis,
    *,
    port: int,
    name: str,
    guests: int,
    parties: int,
    seats: int,
    worker: bool = True,
) -> Iterator[Site]:
    """What the faults, burst and soak runs start: the run's Redis and database,
    `make serve`'s preparation and gunicorn on `port`, a task worker (if `worker`),
    `guests` accounts and `parties` parties seeded with the prefix `name`. All of it
    is stopped (and the database dropped) on the way out, whatever happens."""
    stops: list[Callable[[], object]] = [redis.stop, database.drop]
    try:
        redis.start()
        database.create()
        env = site_env(database.url, redis.url(0))
        prepare_site(env)
        use_django(env)
        users, party_ids = seed(guests=guests, parties=parties, seats=seats, prefix=name)
        server = Server(env, port, name=name)
        stops.append(server.stop)
        task_worker = TaskWorker(env) if worker else None
        server.start()
        if task_worker is not None:
            stops.append(task_worker.stop)
            task_worker.start()
        yield Site(env, server, task_worker, users, party_ids)
    finally:
        for stop in reversed(stops):
            with contextlib.suppress(Exception):
                stop()
