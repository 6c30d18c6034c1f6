"""`make faults` (`python -m ops.faults`): what guests see while parts fail.

On a PostgreSQL server of the run's own (initdb and pg_ctl under var/ops/postgres/,
made at the start and removed at the end: the shared server is never restarted)
and a Redis of its own, with
`make serve`'s gunicorn and `make worker`'s worker, steady mixed traffic (logins,
the list, party pages, replies and withdrawals on a handful of parties) runs while
one fault at a time is injected:

- PostgreSQL restarted: `pg_ctl stop -m fast` (every connection terminated), down
  for 5 s, then `pg_ctl start`;
- Redis stopped for 20 s, then started again (empty, as after a restart);
- a gunicorn worker killed with SIGKILL while requests are in flight;
- a party's row locked (SELECT … FOR UPDATE in another transaction) for 10 s.

After each, with the traffic paused, it checks from the database: every reply the
client saw acknowledged (2xx/3xx) is stored as sent, none that was answered with an
error is, `seats_taken` equals the seats counted from the replies for every party,
and no task is lost (all run, none failed). During the fault, every answer that is
not a success must be the friendly 503 with Retry-After (no 500, no traceback, no
other error page), the server's log must hold no error logged with a traceback
(an outage is a WARNING line: dinnerparty.views.server_error), and the site must
serve a logged-in page again within 10 s of the part returning. A killed worker
drops the requests it was serving without an answer: those are counted
(`no answer`) and their replies checked either way.

FAULTS_SHORT=1 (CI) shortens the outages (PostgreSQL 3 s, Redis 5 s, lock 5 s)
and the quiet spells between them. Ends `faults: all held` or `faults: failed: …`
(exit status 1). docs/scaling.md has the latest table.
"""

import os
import random
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from ops.harness import (
    Browser,
    PrivateCluster,
    PrivateDatabase,
    PrivateRedis,
    Reply,
    Server,
    Traffic,
    running_site,
    say,
    seat_invariant_breaks,
    stack,
    stored_replies,
    wait_for_tasks,
    web_concurrency,
)

SHORT = os.environ.get("FAULTS_SHORT", "") not in {"", "0"}
PORT = int(os.environ.get("FAULTS_PORT") or "8871")
VISITORS = int(os.environ.get("FAULTS_VISITORS") or "6")
PARTIES = 4
SEATS = 3  # fewer than the visitors: some replies go to the waitlist
RECOVERY_LIMIT = 10.0
QUIET = 2.0 if SHORT else 5.0  # traffic before each fault and after it returns


class Probe(threading.Thread):
    """A logged-in visitor asking for the list every 0.2 s: when the site is back."""

    def __init__(self, port: int, user: str) -> None:
        super().__init__(daemon=True)
        self.browser = Browser(port, timeout=10)
        self.user = user
        self.seen: list[tuple[float, bool]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            if "sessionid" not in self.browser.cookies:
                self.browser.log_in(self.user)
            answer = self.browser.get("/parties/")
            ok = answer.status == 200 and "sessionid" in self.browser.cookies
            self.seen.append((time.monotonic(), ok))
            self.halt.wait(0.2)

    def recovered_after(self, returned_at: float) -> float | None:
        """Seconds from `returned_at` to the first success after which every probe
        succeeded; None if it has not recovered yet."""
        last_failure = max((t for t, ok in self.seen if not ok and t >= returned_at), default=None)
        if last_failure is None:
            return 0.0
        later = [t for t, ok in self.seen if ok and t > last_failure]
        return (later[0] - returned_at) if later else None


def expected_replies(replies: list[Reply]) -> tuple[dict, int]:
    """(party, user) → the statuses the database may hold after these replies, in
    order; and how many had no answer at all (the outcome is then unknown)."""
    expected: dict[tuple[int, str], set[str] | None] = {}
    unknown = 0
    for reply in replies:
        key = (reply.party, reply.user)
        if reply.answer.ok:
            expected[key] = {"going", "waitlisted"} if reply.wanted == "going" else {"declined"}
        elif reply.answer.status == 0:
            unknown += 1
            before = expected.get(key, {"absent"})
            after = {"going", "waitlisted"} if reply.wanted == "going" else {"declined"}
            expected[key] = None if before is None else before | after
        else:
            expected.setdefault(key, {"absent"})  # refused: what was there stays
    return expected, unknown


@dataclass
class Row:
    fault: str
    requests: int
    statuses: Counter
    acknowledged: int
    stored: int
    recovery: float | None
    problems: list[str]
    tasks: str = ""
    errors_for: float = 0.0  # seconds from the first answer that was not a success to the last


def check(
    name: str,
    traffic: Traffic,
    probe: Probe,
    returned_at: float,
    worker_kill: bool,
    server: Server,
    log_offset: int,
) -> Row:
    """Pause the traffic and check this fault's answers, the server's log (an outage
    is logged as warnings, never as errors with tracebacks) and the database."""
    deadline = returned_at + RECOVERY_LIMIT + QUIET
    while time.monotonic() < deadline and probe.recovered_after(returned_at) is None:
        time.sleep(0.2)
    time.sleep(max(0.0, min(QUIET, deadline - time.monotonic())))
    traffic.pause()
    recovery = probe.recovered_after(returned_at)
    problems: list[str] = []
    hits = [h for h in traffic.hits if h.phase == name]
    statuses = Counter(h.answer.status for h in hits)
    for hit in hits:
        answer = hit.answer
        if answer.ok or answer.friendly_503:
            continue
        if answer.status == 0 and worker_kill:
            continue
        label = answer.status or f"no answer ({answer.error})"
        problems.append(f"{hit.kind} answered {label}")
        if "Traceback" in answer.body:
            problems.append(f"{hit.kind}: a traceback was shown")
    problems = sorted(set(problems))
    logged_errors = server.request_errors_since(log_offset)
    if logged_errors:
        example = logged_errors[0].split("msg=", 1)[-1][:120]
        problems.append(f"{len(logged_errors)} errors logged with tracebacks, e.g. {example}")

    expected, _unknown = expected_replies(traffic.replies)
    stored = stored_replies()
    mismatched: dict[tuple[int, str], str] = {}
    for key, allowed in expected.items():
        have = stored.get(key, "absent")
        if allowed is not None and have not in allowed:
            mismatched[key] = f"{key}: stored {have}, expected {'/'.join(sorted(allowed))}"
    if mismatched:
        example = next(iter(mismatched.values()))
        problems.append(f"{len(mismatched)} replies not as answered, e.g. {example}")
    acknowledged = [r for r in traffic.replies if r.phase == name and r.answer.ok]
    # Acknowledged in this phase and stored as sent (or since changed by a later
    # acknowledged reply of the same guest, itself checked).
    stored_ok = sum(1 for r in acknowledged if (r.party, r.user) not in mismatched)
    problems += seat_invariant_breaks()
    tasks = wait_for_tasks(45)  # time for the sweep to re-run an orphaned task
    if tasks.get("FAILED") or tasks.get("READY") or tasks.get("RUNNING"):
        problems.append(f"tasks not all run: {tasks}")
    if recovery is None or recovery > RECOVERY_LIMIT:
        problems.append(f"not back within {RECOVERY_LIMIT:.0f} s")
    done = f"{tasks.get('SUCCESSFUL', 0)}/{sum(tasks.values())}"
    failing = [h.at for h in hits if not h.answer.ok]
    errors_for = (max(failing) - min(failing)) if failing else 0.0
    return Row(
        name,
        len(hits),
        statuses,
        len(acknowledged),
        stored_ok,
        recovery,
        problems,
        done,
        errors_for,
    )


def lock_party_row(
    database: PrivateDatabase,
    party: int,
    release: threading.Event,
    held: threading.Event | None = None,
) -> None:
    """Hold `party`'s row (SELECT … FOR UPDATE in an open transaction) until `release`."""
    import psycopg

    with psycopg.connect(database.url) as conn, conn.transaction():
        conn.execute("SELECT id FROM parties_dinnerparty WHERE id = %s FOR UPDATE", [party])
        if held is not None:
            held.set()
        release.wait(60)


def reply_to_locked(traffic: "Traffic", party: int, user: str) -> None:
    """A guest replying to the locked party: their request waits inside a worker."""
    browser = Browser(traffic.port, timeout=30)
    if browser.log_in(user).status != 302 or browser.get(f"/parties/{party}/").status != 200:
        return
    answer = browser.post(f"/parties/{party}/rsvp/", {"status": "going", "plus_ones": "0"})
    traffic.record("rsvp", answer)
    with traffic.lock:
        traffic.replies.append(Reply(traffic.phase, party, user, "going", answer))


def print_table(rows: list[Row]) -> None:
    head = (
        f"{'fault':<34} {'requests':>8} {'2xx/3xx':>8} {'503':>5} {'other':>14} "
        f"{'acked':>6} {'stored':>6} {'tasks run':>10} {'errors for':>10} {'recovery':>9}  verdict"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        ok = sum(n for status, n in row.statuses.items() if 200 <= status < 400)
        other = {s: n for s, n in row.statuses.items() if not (200 <= s < 400) and s != 503}
        other_text = ",".join(f"{s or 'none'}:{n}" for s, n in sorted(other.items())) or "-"
        recovery = "never" if row.recovery is None else f"{row.recovery:.1f} s"
        verdict = "held" if not row.problems else "FAILED: " + "; ".join(row.problems)
        print(
            f"{row.fault:<34} {row.requests:>8} {ok:>8} {row.statuses.get(503, 0):>5} "
            f"{other_text:>14} {row.acknowledged:>6} {row.stored:>6} {row.tasks:>10} "
            f"{row.errors_for:>8.1f} s {recovery:>9}  {verdict}"
        )


def main() -> int:
    cluster = PrivateCluster()
    redis = PrivateRedis()
    say(
        f"faults: a PostgreSQL server of its own on port {cluster.port}, "
        f"Redis on port {redis.port}, gunicorn on {PORT}"
    )
    with stack(cluster.remove):
        cluster.start()
        database = PrivateDatabase(server=cluster.server)
        return run_faults(cluster, database, redis)


def run_faults(cluster: PrivateCluster, database: PrivateDatabase, redis: PrivateRedis) -> int:
    workers = web_concurrency()
    with running_site(
        database,
        redis,
        port=PORT,
        name="faults",
        guests=VISITORS + 1 + workers,
        parties=PARTIES,
        seats=SEATS,
    ) as site:
        server, users, parties = site.server, site.users, site.parties
        extra_users = users[VISITORS + 1 :]
        traffic = Traffic(PORT, users[:VISITORS], parties)
        probe = Probe(PORT, users[VISITORS])
        traffic.start()
        probe.start()
        time.sleep(QUIET)
        outage = 3.0 if SHORT else 5.0

        def postgres_restart() -> None:
            cluster.stop()  # pg_ctl stop -m fast: connections terminated, new ones refused
            time.sleep(outage)
            cluster.start()  # returns once the server accepts connections

        def redis_away() -> None:
            redis.stop()
            time.sleep(5.0 if SHORT else 20.0)
            redis.start()

        def kill_worker() -> None:
            # Make sure a worker is mid-request: hold a party's row, send replies to
            # it until every worker is waiting on the lock inside its transaction,
            # kill one, then let the others through.
            victim = parties[-1]
            held = threading.Event()
            release = threading.Event()
            holder = threading.Thread(
                target=lock_party_row, args=(database, victim, release, held), daemon=True
            )
            holder.start()
            held.wait(10)
            stuck = [
                threading.Thread(target=reply_to_locked, args=(traffic, victim, name), daemon=True)
                for name in extra_users
            ]
            for thread in stuck:
                thread.start()
            deadline = time.monotonic() + 10
            while database.waiting_on_locks() < len(stuck) and time.monotonic() < deadline:
                time.sleep(0.05)
            pids = server.workers()
            if pids:
                os.kill(random.choice(pids), signal.SIGKILL)
            time.sleep(0.5)
            release.set()
            holder.join(10)
            for thread in stuck:
                thread.join(35)

        def lock_row() -> None:
            release = threading.Event()
            threading.Timer(5.0 if SHORT else 10.0, release.set).start()
            lock_party_row(database, parties[0], release)

        faults: list[tuple[str, Callable[[], None], bool]] = [
            (f"PostgreSQL restarted, down {outage:.0f} s", postgres_restart, False),
            (f"Redis stopped {5 if SHORT else 20} s", redis_away, False),
            ("gunicorn worker SIGKILLed", kill_worker, True),
            (f"party row locked {5 if SHORT else 10} s", lock_row, False),
        ]
        rows: list[Row] = []
        traffic.pause()
        for name, inject, worker_kill in faults:
            traffic.resume(name)
            time.sleep(QUIET)
            say(f"fault: {name}")
            log_offset = server.log_offset()
            inject()
            returned = time.monotonic()
            row = check(
                name,
                traffic,
                probe,
                returned,
                worker_kill,
                server,
                log_offset,
            )
            rows.append(row)
            say(f"  {'held' if not row.problems else 'FAILED: ' + '; '.join(row.problems)}")
        traffic.stop()
        probe.halt.set()
        print()
        print_table(rows)
        failed = [f"{row.fault}: {'; '.join(row.problems)}" for row in rows if row.problems]
        print()
        print("faults: all held" if not failed else f"faults: failed: {' | '.join(failed)}")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
