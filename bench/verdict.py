"""The targets (issue 6) and whether a run met them. Pure: results in, verdict out."""

from dataclasses import dataclass

# Targets (issue 6). Ratios are to the hello-world ceiling's req/s in the same run.
RATIO_TARGETS = {"landing": 0.40, "list-p1": 0.20, "detail-50": 0.15, "rsvp": 0.15}

TARGET_SIZE = 100_000

P99_OVER_P50 = 5.0

PAGE_DEPTH_FACTOR = 1.3  # page 50 against page 1

GROWTH_FACTOR = 1.3  # the list at 100,000 parties against 1,000

LOGIN_SHARE = 0.90  # of the Argon2 limit

RSS_LIMIT_MB = 150.0

RUNTIME_LIMIT_S = 600.0


def fmt_size(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


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
                in_run = argon2["in_run"]
                targets.append(
                    Target(
                        f"{db}/login-argon2-{size}",
                        share >= LOGIN_SHARE and login["status"] == "ok",
                        f"{login['rps']:.1f} req/s = {share:.0%} of the in-run Argon2 limit "
                        f"{argon2['limit']:.1f}/s ({in_run['cores_left']:.2f} cores left of "
                        f"{in_run['cores']}), need ≥ {LOGIN_SHARE:.0%} "
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
