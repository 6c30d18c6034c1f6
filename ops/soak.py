"""`make soak` (`python -m ops.soak`): mixed traffic at about half capacity for
SOAK_MINUTES (default 30; CI runs 3).

On PostgreSQL + Redis (the run's own) with `make serve`'s gunicorn and a worker:
first the capacity is measured (visitors as fast as they go for SOAK_PROBE
seconds, default 15), then visitors are paced to half of it for the soak. Every
5 s the workers' resident memory (VmRSS, summed) is sampled. Checked at the end:

- RSS after warm-up (the first SOAK_WARMUP seconds, default 60, or a sixth of a
  short run) grows by less than 10% by the end;
- the p99 of the last window is within 1.5× of the first one (windows of five
  minutes, or a third of a run shorter than 15 minutes);
- no 5xx answer (and no request without an answer) at all;
- the seat invariant holds, and every task ran.

Ends `soak: held` or `soak: failed: …`; docs/scaling.md has the latest table.
"""

import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from ops.harness import (
    PrivateDatabase,
    PrivateRedis,
    Traffic,
    percentile,
    running_site,
    say,
    seat_invariant_breaks,
    wait_for_tasks,
)

MINUTES = float(os.environ.get("SOAK_MINUTES") or "30")
PROBE = float(os.environ.get("SOAK_PROBE") or "15")
PORT = int(os.environ.get("SOAK_PORT") or "8873")
VISITORS = int(os.environ.get("SOAK_VISITORS") or "8")
RSS_GROWTH_LIMIT = 0.10
P99_LIMIT = 1.5


def rss_mb(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


class Pace:
    """At most `rate` visit steps a second, shared by every visitor."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            now = time.monotonic()
            self.next = max(self.next + self.interval, now)
            wait = self.next - now
        time.sleep(wait)


def steps_per_second(traffic: Traffic, since: float) -> float:
    hits = [h for h in traffic.hits if h.at >= since and h.kind in {"list", "page", "rsvp"}]
    # A visit step is a list, a party page and (after the page) a reply: count lists.
    lists = sum(1 for h in hits if h.kind == "list")
    return lists / max(0.001, time.monotonic() - since)


def logins(traffic: Traffic) -> int:
    return sum(1 for h in traffic.hits if h.kind == "login")


def main() -> int:
    database = PrivateDatabase(os.environ.get("OPS_DATABASE") or "dinnerparty_ops_soak")
    redis = PrivateRedis()
    seconds = MINUTES * 60
    warmup = float(os.environ.get("SOAK_WARMUP") or min(60.0, seconds / 6))
    window = 300.0 if seconds >= 900 else seconds / 3
    say(f"soak: {MINUTES:g} minutes, gunicorn on {PORT}")
    with running_site(
        database, redis, port=PORT, name="soak", guests=VISITORS, parties=6, seats=5
    ) as site:
        env, server, users, parties = site.env, site.server, site.users, site.parties
        traffic = Traffic(PORT, users, parties)
        traffic.phase = "capacity"
        traffic.start()
        deadline = time.monotonic() + 60
        # Every visitor logged in (an Argon2 hash each) before measuring.
        while time.monotonic() < deadline and logins(traffic) < VISITORS:
            time.sleep(0.1)
        started = time.monotonic()
        time.sleep(PROBE)
        capacity = steps_per_second(traffic, started)
        pace = Pace(max(0.5, capacity / 2))
        traffic.gate = pace
        traffic.phase = "soak"
        say(f"soak: capacity {capacity:.1f} visit steps/s; pacing at {capacity / 2:.1f}")
        soak_start = time.monotonic()
        samples: list[tuple[float, float]] = []
        loads: list[float] = []
        workers_seen: set[int] = set()
        while time.monotonic() - soak_start < seconds:
            pids = server.workers()
            workers_seen.update(pids)
            samples.append((time.monotonic() - soak_start, rss_mb(pids)))
            loads.append(os.getloadavg()[0])
            time.sleep(5)
        traffic.pause()
        traffic.stop()

        hits = [h for h in traffic.hits if h.phase == "soak"]
        statuses = Counter(h.answer.status for h in hits)
        # Pages and replies; logins are left out: each is an Argon2 hash, slow by design,
        # and a few of them would be the whole p99 of a short window.
        timed = [h for h in hits if h.kind in {"list", "page", "rsvp"}]
        first = [h.answer.seconds for h in timed if h.at - soak_start < window]
        last = [h.answer.seconds for h in timed if h.at - soak_start >= seconds - window]
        p99_first, p99_last = percentile(first, 0.99), percentile(last, 0.99)
        after_warmup = [mb for at, mb in samples if at >= warmup]
        rss_start = after_warmup[0] if after_warmup else 0.0
        rss_end = samples[-1][1] if samples else 0.0
        growth = (rss_end - rss_start) / rss_start if rss_start else 0.0

        problems = []
        bad = {s: n for s, n in statuses.items() if s >= 500 or s == 0}
        if bad:
            problems.append(f"errors: {bad}")
        if growth >= RSS_GROWTH_LIMIT:
            problems.append(f"RSS grew {growth:.1%} after warm-up")
        if p99_first and p99_last > P99_LIMIT * p99_first:
            problems.append(f"p99 {p99_last * 1000:.0f} ms vs {p99_first * 1000:.0f} ms at first")
        if len(workers_seen) > int(env["WEB_CONCURRENCY"]):
            problems.append(f"workers replaced during the soak ({len(workers_seen)} seen)")
        seat_breaks = seat_invariant_breaks()
        problems += seat_breaks
        tasks = wait_for_tasks(30)
        if tasks.get("FAILED") or tasks.get("READY") or tasks.get("RUNNING"):
            problems.append(f"tasks not all run: {tasks}")

        rate = len(hits) / seconds
        answers = ", ".join(f"{s or 'none'}: {n}" for s, n in sorted(statuses.items()))
        window_name = f"{window / 60:.3g} min"
        print()
        print(
            f"| minutes | requests | req/s | answers | 5xx or none | p99 first {window_name} "
            f"| p99 last {window_name} | workers' RSS after warm-up → end | seat invariant "
            "| tasks run | load average |"
        )
        print("|" + " --- |" * 11)
        print(
            f"| {MINUTES:g} | {len(hits)} | {rate:.1f} | {answers} | {sum(bad.values())} "
            f"| {p99_first * 1000:.0f} ms | {p99_last * 1000:.0f} ms "
            f"| {rss_start:.0f} → {rss_end:.0f} MB ({growth:+.1%}) "
            f"| {'held' if not seat_breaks else f'{len(seat_breaks)} parties off'} "
            f"| {tasks.get('SUCCESSFUL', 0)}/{sum(tasks.values())} | {os.getloadavg()[0]:.1f} |"
        )
        print()
        # How the p99 and the memory went, window by window, and how busy the machine was.
        for start in range(0, int(seconds), int(window)):
            times = [h.answer.seconds for h in timed if start <= h.at - soak_start < start + window]
            rss = [mb for at, mb in samples if start <= at < start + window]
            print(
                f"  minutes {start / 60:.3g}–{(start + window) / 60:.3g}: p99 "
                f"{percentile(times, 0.99) * 1000:.0f} ms over {len(times)} requests, "
                f"RSS {rss[-1] if rss else 0:.0f} MB at the end"
            )
        if loads:
            print(f"  load average during the soak: {min(loads):.1f}–{max(loads):.1f}")
        print()
        print("soak: held" if not problems else f"soak: failed: {'; '.join(problems)}")
        return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
