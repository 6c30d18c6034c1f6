"""`make cluster` (`python -m ops.cluster`): two app servers behind HAProxy.

Two `make serve` gunicorns (ports CLUSTER_PORT+1 and +2) share one PostgreSQL
database and one Redis (both the run's own); HAProxy (Debian package `haproxy`)
listens on CLUSTER_PORT, balances round-robin and health-checks `/healthz` every
second. Checked:

1. a login made through one server is valid on the other;
2. the login throttle counts failures made through both, together;
3. a party edited through one is shown edited by the other on the next request;
4. under mixed traffic through HAProxy, stopping one server (SIGTERM: gunicorn
   finishes what it is serving) loses no request, and killing one outright
   (SIGKILL of every process) loses none that HAProxy may retry (connection
   failures always; GETs that got no answer) — a POST the dead server was serving
   gets HAProxy's 502 (replaying it could reply twice) — and the site stays up.

Ends `cluster: all held` or `cluster: failed: …`; docs/scaling.md has the numbers.
"""

import html
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from html.parser import HTMLParser

from ops.harness import (
    VAR,
    Browser,
    PrivateDatabase,
    PrivateRedis,
    Server,
    Traffic,
    prepare_site,
    say,
    seat_invariant_breaks,
    seed,
    site_env,
    stack,
    use_django,
)

BASE_PORT = int(os.environ.get("CLUSTER_PORT") or "8880")
SHORT = os.environ.get("FAULTS_SHORT", "") not in {"", "0"}
SPELL = 3.0 if SHORT else 10.0  # traffic before, during and after each stop

HAPROXY_CONFIG = """\
global
    maxconn 1024
    stats socket {socket} mode 600 level admin
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch 1
    # A connection the server refused or dropped unanswered is tried on the other;
    # only GET and HEAD are replayed after the server may have seen them.
    retry-on conn-failure empty-response
frontend site
    bind 127.0.0.1:{port}
    option forwardfor
    http-request disable-l7-retry unless METH_GET || METH_HEAD
    default_backend app
backend app
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter 1s fall 2 rise 2
    server a 127.0.0.1:{a} check
    server b 127.0.0.1:{b} check
"""


class HAProxy:
    def __init__(self, port: int, servers: tuple[int, int]) -> None:
        self.port = port
        self.config = VAR / "haproxy.cfg"
        self.socket = VAR / "haproxy.sock"
        self.config.write_text(
            HAPROXY_CONFIG.format(port=port, a=servers[0], b=servers[1], socket=self.socket)
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        subprocess.run(["haproxy", "-c", "-q", "-f", str(self.config)], check=True)
        self.proc = subprocess.Popen(
            ["haproxy", "-db", "-f", str(self.config)],
            stdout=(VAR / "haproxy.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if Browser(self.port, timeout=2).get("/healthz").status == 200:
                return
            time.sleep(0.2)
        raise RuntimeError("HAProxy did not answer /healthz")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def command(self, line: str) -> str:
        """One command on HAProxy's runtime API (its admin socket)."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.socket))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def drain(self, server: str, timeout: float = 30) -> float:
        """Send `server` no new requests, and wait until it has finished the ones it
        has; returns the seconds that took."""
        self.command(f"set server app/{server} state drain")
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            for line in self.command("show stat").splitlines():
                fields = line.split(",")  # CSV: pxname, svname, qcur, qmax, scur, …
                if fields[:2] == ["app", server] and fields[2] == "0" and fields[4] == "0":
                    return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"{server} still had requests {timeout:.0f} s after draining began")

    def ready(self, server: str) -> None:
        self.command(f"set server app/{server} state ready")


class FormFields(HTMLParser):
    """The fields a browser would submit from the form posting to `action`."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action", "") in {self.action, ""}
        if not self.inside or "name" not in a and tag != "option":
            return
        if tag == "input" and a.get("type") not in {"submit", "button"}:
            if a.get("type") in {"checkbox", "radio"} and "checked" not in a:
                return
            # A box ticked without a value sends "on"; an empty text box, "".
            default = "on" if a.get("type") in {"checkbox", "radio"} else ""
            self.fields.append((a["name"], a.get("value", default)))
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.fields.append((self.select, a.get("value", "")))
        elif tag == "textarea":
            self.textarea, self.text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.fields.append((self.textarea, self.text.lstrip("\n")))
            self.textarea = None


def check_login_shared(a: int, b: int, user: str) -> list[str]:
    first = Browser(a)
    if first.log_in(user).status != 302:
        return ["login through server A failed"]
    second = Browser(b)
    second.cookies = dict(first.cookies)
    page = second.get("/parties/")
    if page.status != 200 or user not in page.body:
        return [f"the session made on A is not valid on B (B answered {page.status})"]
    return []


def check_throttle_shared(a: int, b: int, user: str, limit: int) -> list[str]:
    for attempt in range(limit):
        browser = Browser(a if attempt % 2 == 0 else b)
        browser.get("/accounts/login/")
        browser.post("/accounts/login/", {"username": user, "password": "wrong-password-x" * 2})
    answers = []
    for port in (a, b):
        browser = Browser(port)
        answers.append(browser.log_in(user).status)
    if answers != [429, 429]:
        return [f"after {limit} failures split over both, logins answered {answers}, not 429"]
    return []


def check_edit_seen(a: int, b: int, host: str, guest: str, party: int) -> list[str]:
    editor = Browser(a)
    editor.log_in(host)
    form_page = editor.get(f"/parties/{party}/edit/")
    fields = FormFields(f"/parties/{party}/edit/")
    fields.feed(form_page.body)
    title = f"Edited through A {int(time.time())}"
    data = [(k, v) for k, v in fields.fields if k not in {"title", "csrfmiddlewaretoken"}]
    data += [("title", title), ("csrfmiddlewaretoken", editor.token)]
    viewer = Browser(b)
    viewer.log_in(guest)
    before = viewer.get(f"/parties/{party}/")  # B caches the page as it was
    saved = editor.request("POST", f"/parties/{party}/edit/", dict(data))
    if saved.status != 302:
        errors = re.findall(r'class="invalid-feedback"[^>]*>\s*<strong>([^<]+)', saved.body)
        return [f"editing through A answered {saved.status} {errors[:2]}"]
    after = viewer.get(f"/parties/{party}/")
    if before.status != 200 or html.escape(title) not in after.body:
        return ["B did not show the edit made through A on the next request"]
    return []


def stop_under_traffic(traffic: Traffic, label: str, stop) -> tuple[list[str], Counter]:
    """Traffic through HAProxy while `stop` takes a server away."""
    traffic.resume(label)
    time.sleep(SPELL)
    stop()
    time.sleep(SPELL * 1.5)
    traffic.pause()
    hits = [h for h in traffic.hits if h.phase == label]
    statuses = Counter(h.answer.status for h in hits)
    return [h.kind for h in hits if not h.answer.ok], statuses


def main() -> int:
    database = PrivateDatabase(os.environ.get("OPS_DATABASE") or "dinnerparty_ops_cluster")
    redis = PrivateRedis()
    ports = (BASE_PORT + 1, BASE_PORT + 2)
    say(f"cluster: gunicorn on {ports[0]} and {ports[1]}, HAProxy on {BASE_PORT}")
    redis.start()
    database.create()
    env = site_env(database.url, redis.url(0), WEB_CONCURRENCY="1")
    prepare_site(env)
    use_django(env)
    users, parties = seed(guests=10, parties=3, seats=4, prefix="cluster")
    from django.conf import settings

    servers = [Server(env, port, name=f"cluster-{i}") for i, port in enumerate(ports)]
    proxy = HAProxy(BASE_PORT, ports)
    results: list[tuple[str, list[str], str]] = []
    with stack(redis.stop, database.drop, servers[0].stop, servers[1].stop, proxy.stop):
        for server in servers:
            server.start()
        proxy.start()
        a, b = ports
        results.append(("a login through A is valid on B", check_login_shared(a, b, users[0]), ""))
        limit = settings.LOGIN_FAILURES_PER_ACCOUNT
        results.append(
            (
                f"the login throttle counts across both ({limit} failures)",
                check_throttle_shared(a, b, users[1], limit),
                "",
            )
        )
        results.append(
            (
                "an edit through A is shown by B next",
                check_edit_seen(a, b, "cluster-host", users[2], parties[0]),
                "",
            )
        )
        traffic = Traffic(BASE_PORT, users[3:9], parties)
        traffic.start()
        traffic.pause()

        def drain_and_stop_a() -> None:
            say(f"cluster: A drained in {proxy.drain('a'):.2f} s; stopping it")
            servers[0].stop()

        failed, statuses = stop_under_traffic(traffic, "stop", drain_and_stop_a)
        results.append(
            (
                "A drained in HAProxy, then stopped (SIGTERM), under traffic: nothing lost",
                [f"{len(failed)} requests failed: {Counter(failed)}"] if failed else [],
                fmt(statuses),
            )
        )
        servers[0].start()
        proxy.ready("a")
        time.sleep(3)  # two health checks: A is back in rotation

        def kill_b() -> None:
            os.killpg(servers[1].proc.pid, signal.SIGKILL)

        failed, statuses = stop_under_traffic(traffic, "kill", kill_b)
        retryable = [kind for kind in failed if kind not in {"rsvp", "login", "logout"}]
        problems = [f"{len(retryable)} retryable requests failed"] if retryable else []
        if len(failed) > 2:
            problems.append(f"{len(failed)} requests failed (at most one in flight on B's worker)")
        results.append(("B killed (SIGKILL) under traffic: site stays up", problems, fmt(statuses)))
        traffic.stop()
        breaks = seat_invariant_breaks()
        results.append(("seat invariant after both", breaks, ""))

        print()
        print("| check | answers | result |")
        print("| --- | --- | --- |")
        for name, problems, answers in results:
            verdict = "held" if not problems else "; ".join(problems)
            print(f"| {name} | {answers or '-'} | {verdict} |")
        failed_checks = [name for name, problems, _ in results if problems]
        print()
        print(
            "cluster: all held"
            if not failed_checks
            else f"cluster: failed: {'; '.join(failed_checks)}"
        )
        return 1 if failed_checks else 0


def fmt(statuses: Counter) -> str:
    return ", ".join(f"{s or 'none'}: {n}" for s, n in sorted(statuses.items()))


if __name__ == "__main__":
    sys.exit(main())
