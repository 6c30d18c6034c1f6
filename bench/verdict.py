"""The targets (issue 6) and whether a run met them.

Pure: a run's results (the JSON bench/run.py writes to bench/results/) in, a
verdict out; no I/O, no Django. bench/tests/test_verdict.py runs it on stored
results.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass

from bench.pairing import QUIET_OTHERS

# Each endpoint's req/s as a share of the hello-world ceiling's, at TARGET_SIZE:
# the median of its pairs of alternating windows (bench.pairing).
RATIO_TARGETS = {
    "landing": 0.40,
    "list-p1": 0.20,
    "detail-50": 0.15,
    "rsvp": 0.15,
}
# Targets of endpoints measured in one pass of a run (its last: bench.endpoints.ONE_PASS).
ONE_PASS_RATIO_TARGETS = {"preview": 0.40}  # an invite link opened logged out (issue 20)
TARGET_SIZE = 100_000
BASE_SIZE = 1_000  # the list at TARGET_SIZE is compared with the list at this size
P99_OVER_P50 = 5.0
PAGE_DEPTH_FACTOR = 1.3  # page 50 against page 1
GROWTH_FACTOR = 1.3  # the list at 100,000 parties against 1,000
REPLY_LINK_FACTOR = 1.5  # a guest's reply by its emailed link against an RSVP POST
LOGIN_SHARE = 0.90  # of the Argon2 limit measured in the login run
MAIL_PER_SECOND = 200  # emails one task worker (`manage.py worker`) sends to a local SMTP server
RSS_LIMIT_MB = 150.0
RUNTIME_LIMIT_S = 600.0


@dataclass(frozen=True)
class Target:
    name: str
    ok: bool
    detail: str
    # Measured while other processes took a core and too few quiet windows
    # could be had (bench.pairing.paired): a miss may be theirs.
    disturbed: bool = False


@dataclass(frozen=True)
class Verdict:
    targets: list[Target]
    missed: list[str]  # the harness's failures first, then the targets missed

    @property
    def ok(self) -> bool:
        return not self.missed

    @property
    def line(self) -> str:
        """The run's last line."""
        if self.ok:
            return "bench: all targets met"
        line = f"bench: targets missed: {', '.join(self.missed)}"
        disturbed = [t.name for t in self.targets if t.disturbed and not t.ok]
        if disturbed:
            line += f" (measured while other processes took the CPU: {', '.join(disturbed)})"
        return line


def fmt_size(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def evaluate(results: dict) -> Verdict:
    """Every target of a run's results: its `runs` (one per database and size),
    `failures` (what the harness could not run) and `runtime_s`."""
    runs = results.get("runs", [])
    targets: list[Target] = []
    for db in dict.fromkeys(run["db"] for run in runs):
        targets.extend(database_targets(db, [run for run in runs if run["db"] == db]))
    targets.extend(one_pass_targets(runs))
    targets.extend(mail_targets(runs, results.get("mail", {})))
    runtime = results.get("runtime_s")
    targets.append(
        Target(
            "runtime",
            runtime is not None and runtime < RUNTIME_LIMIT_S,
            f"whole run {runtime:.0f} s, need < {RUNTIME_LIMIT_S:.0f} s",
        )
    )
    missed = [*results.get("failures", []), *(t.name for t in targets if not t.ok)]
    return Verdict(targets, missed)


def database_targets(db: str, runs: list[dict]) -> Iterator[Target]:
    """One database's targets: those set at TARGET_SIZE (missed when it did not
    run), then each size's own, then the list's growth from BASE_SIZE."""
    by_size = {run["size"]: run for run in runs}
    big_run = by_size.get(TARGET_SIZE, {"size": TARGET_SIZE, "endpoints": {}})
    big = big_run["endpoints"]
    small = by_size.get(BASE_SIZE, {}).get("endpoints", {})
    for name, share in RATIO_TARGETS.items():
        yield ratio_target(f"{db}/{name}-ratio", big.get(name, {}), share)
    measured = runs if TARGET_SIZE in by_size else [*runs, big_run]
    reused = any(run.get("database_of") for run in runs)
    for run in sorted(measured, key=lambda run: run["size"]):
        yield from size_targets(db, run, deep=not reused)
    if BASE_SIZE not in by_size and reused:
        return  # measured on another pass's database, whose own pass had the baseline
    yield depth_target(
        f"{db}/list-{fmt_size(TARGET_SIZE)}-vs-{fmt_size(BASE_SIZE)}",
        small.get("list-p1", {}),
        big.get("list-p1", {}),
        GROWTH_FACTOR,
        fmt_size(TARGET_SIZE),
        fmt_size(BASE_SIZE),
    )


def one_pass_targets(runs: list[dict]) -> Iterator[Target]:
    """The targets of the endpoints one pass of the run measures (its last), named
    after that pass's database; missed as not measured when no pass did."""
    big = [run for run in runs if run["size"] == TARGET_SIZE]
    run = next((r for r in reversed(big) if "reply-link" in r["endpoints"]), None)
    run = run or next((r for r in reversed(big) if "preview" in r["endpoints"]), None)
    db = run["db"] if run else (runs[-1]["db"] if runs else "run")
    endpoints = run["endpoints"] if run else {}
    for name, share in ONE_PASS_RATIO_TARGETS.items():
        yield ratio_target(f"{db}/{name}-ratio", endpoints.get(name, {}), share)
    yield depth_target(
        f"{db}/reply-link-vs-rsvp",
        endpoints.get("rsvp", {}),
        endpoints.get("reply-link", {}),
        REPLY_LINK_FACTOR,
        "a reply by its link",
        "an RSVP POST",
    )


def size_targets(db: str, run: dict, *, deep: bool = True) -> Iterator[Target]:
    """Every endpoint's tail and errors, the workers' memory; page 50 and logins
    where they ran (and at TARGET_SIZE, where they must; page 50 not on another
    pass's database, `deep` False: that pass measured it on the same SQL)."""
    size, endpoints = fmt_size(run["size"]), run["endpoints"]
    target_size = run["size"] == TARGET_SIZE
    for name, result in endpoints.items():
        if result.get("status") == "skip":
            continue
        if result.get("status") != "ok":
            yield Target(f"{db}/{name}-{size}-errors", False, result.get("note", "failed"))
            continue
        factor = result["p99_over_p50"]
        yield Target(
            f"{db}/{name}-{size}-p99",
            factor < P99_OVER_P50,
            f"p99 {result['p99_ms']} ms = {factor:.1f}× p50{windows_note(result)}, "
            f"need < {P99_OVER_P50:g}×",
            disturbed=result.get("disturbed", False) or result.get("others_cpu", 0) > QUIET_OTHERS,
        )
    if deep and (target_size or endpoints.get("list-p50", {}).get("status") == "ok"):
        yield depth_target(
            f"{db}/page50-{size}",
            endpoints.get("list-p1", {}),
            endpoints.get("list-p50", {}),
            PAGE_DEPTH_FACTOR,
            "page 50",
            "page 1",
        )
    if endpoints:
        rss = run.get("worker_peak_rss_mb")
        yield Target(
            f"{db}/worker-rss-{size}",
            rss is not None and rss < RSS_LIMIT_MB,
            f"peak worker RSS {rss} MB, need < {RSS_LIMIT_MB:g} MB",
        )
    if target_size or "login" in endpoints:
        yield login_target(f"{db}/login-argon2-{size}", endpoints.get("login", {}), run)


def windows_note(result: dict) -> str:
    windows = result.get("windows", 1)
    return f", median of {windows} windows" if windows > 1 else ""


def ratio_target(name: str, result: dict, share: float) -> Target:
    ratio = result.get("ratio")
    if ratio is None:
        return Target(name, False, f"not measured, need ≥ {share:.0%} of the ceiling")
    by_cpu, by_server = result.get("cpu_ratio"), result.get("server_ratio")
    cpu_note = f"; by CPU time per request: {by_cpu:.1%}" if by_cpu else ""
    cpu_note += f", by the server's alone: {by_server:.1%}" if by_server else ""
    return Target(
        name,
        ratio >= share and result.get("status") == "ok",
        f"{ratio:.1%} of the ceiling{pairs_note(result)}, need ≥ {share:.0%}{cpu_note}",
        disturbed=result.get("disturbed", False),
    )


def pairs_note(result: dict) -> str:
    """' (median of 5 pairs, 21.7%–24.5%)', and how many of them were quiet."""
    if not result.get("ratios"):
        return ""
    counted, total = len(result.get("used", result["ratios"])), len(result["ratios"])
    quiet = result.get("quiet_pairs", total)
    if result.get("disturbed"):
        calm = (
            f"; only {quiet} of {total} quiet, so all counted: other processes took up to "
            f"{result['others_cpu_max']:.2f} cores"
        )
    else:
        calm = f"; the {counted} quiet of {total}" if counted < total else ""
    spread = f"{result['ratio_min']:.1%}–{result['ratio_max']:.1%}"
    return f" (median of {counted} pairs, {spread}{calm})"


def depth_target(
    name: str, base: dict, other: dict, factor: float, other_label: str, base_label: str
) -> Target:
    """`other` within `factor` of `base`, by req/s or by median latency (either
    will do). req/s are compared as shares of the ceiling (each the median of its
    pairs): the two runs are seconds or minutes apart, and this machine's speed
    drifts by more than the factor allowed between them."""
    if not base.get("ratio") or not other.get("ratio"):
        return Target(name, False, f"not measured ({other_label} or {base_label} missing)")
    by_rps = base["ratio"] / other["ratio"]
    by_p50 = other["p50_ms"] / base["p50_ms"] if base["p50_ms"] else float("inf")
    ok = min(by_rps, by_p50) <= factor and other.get("status") == "ok"
    return Target(
        name,
        ok,
        f"{other_label} costs {by_rps:.2f}× {base_label} by req/s as a share of the ceiling "
        f"({base['rps'] / other['rps']:.2f}× by raw req/s), {by_p50:.2f}× by p50; "
        f"need ≤ {factor:g}× by either",
        disturbed=base.get("disturbed", False) or other.get("disturbed", False),
    )


def tenths_down(share: float) -> str:
    """A share as a percentage to a tenth, rounded down: 0.8997 is "89.9%", so a
    share under a line never reads as the line itself."""
    return f"{math.floor(round(share * 1000, 6)) / 10:.1f}%"


def login_target(name: str, login: dict, run: dict) -> Target:
    """Logins against the Argon2 limit measured in the login run's own checks
    (bench.hashlimit.in_run_limit): the share of the benchmark's cores that went
    into hashing."""
    limit = (run.get("argon2") or {}).get("in_run") or {}
    if not limit.get("limit") or login.get("rps") is None:
        return Target(name, False, "not measured")
    share = login["rps"] / limit["limit"]
    detail = (
        f"{login['rps']:.1f} req/s = {tenths_down(share)} of the in-run Argon2 limit "
        f"{limit['limit']:.1f}/s ({limit['per_core']:.2f}/s per core × "
        f"{limit['cores_left']:.2f} cores left of {limit['cores']}), need ≥ {LOGIN_SHARE:.0%}"
    )
    cross = [f"of all {limit['cores']} cores: {login['rps'] / limit['limit_all_cores']:.1%}"]
    pinned = ((run.get("argon2") or {}).get("pinned") or {}).get("limit")
    if pinned:
        cross.append(
            f"of the pinned rate before the run, {pinned:.1f}/s: {login['rps'] / pinned:.1%}"
        )
    return Target(
        name,
        share >= LOGIN_SHARE and login.get("status") == "ok",
        f"{detail} ({'; '.join(cross)})",
        disturbed=limit.get("others_cpu", 0) > QUIET_OTHERS,
    )


def mail_targets(runs: list[dict], mail: dict) -> Iterator[Target]:
    """One task worker's emails per second on each database a pass seeded (a pass
    on another pass's database shares its queue); missed as not measured."""
    own = [run["db"] for run in runs if not run.get("database_of")]
    for db in dict.fromkeys(own):
        yield mail_target(f"{db}/worker-emails-per-second", mail.get(db, {}))


def mail_target(name: str, result: dict) -> Target:
    if result.get("status") != "ok":
        return Target(name, False, result.get("note", "not measured"))
    rate, sent, emails = result["emails_per_second"], result["sent"], result["emails"]
    processes = result.get("processes", 1)
    return Target(
        name,
        rate >= MAIL_PER_SECOND and sent == emails,
        f"{sent} of {emails} emails in {result['seconds']} s = {rate}/s, need ≥ "
        f"{MAIL_PER_SECOND}/s (whole run {result['total_seconds']} s, worker peak RSS "
        f"{result['worker_peak_rss_mb']} MB"
        + (f", {processes} processes)" if processes > 1 else ")"),
        disturbed=result.get("others_cpu", 0) > QUIET_OTHERS,
    )
