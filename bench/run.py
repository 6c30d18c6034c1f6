"""`make bench`: load-test DinnerParty against a hello-world ceiling.

For each database (SQLite always, a file under var/bench/; PostgreSQL too when
DATABASE_URL points at one, in a database of its own, `<its database>_bench`) and
each size (1,000 then 100,000 parties with 10 RSVPs each, made by seed_demo):
start gunicorn as `make serve` does (gunicorn.conf.py, DJANGO_ENV=production;
DJANGO_SETTINGS_MODULE=bench.settings for the /bench/hello ceiling and the timed
hasher), log a pool of generated users in, and drive each endpoint with wrk at
16 connections for a fixed time after a short warm-up. Logins are held to the
Argon2 limit measured in the same run, from the workers' own password checks.

Prints a table and writes var/bench/results.json and var/bench/ratios.png. The
last line is `bench: all targets met` or `bench: targets missed: <names>`; the
exit code is 1 when a target is missed, 2 when the harness itself failed.

    .venv/bin/python -m bench.run [--duration 8] [--warmup 2] [--sizes 1000,100000]
                                  [--databases sqlite,postgres] [--keep]

The same settings come from BENCH_DURATION, BENCH_WARMUP, BENCH_SIZES and
BENCH_DATABASES, so `BENCH_DURATION=4 make bench` works too.
"""

import argparse
import contextlib
import json
import os
import secrets
import shutil
import sys
import time
import traceback
from datetime import UTC, datetime

from bench import cpu
from bench.client import (
    DEEP_PAGE,
    Client,
    deep_page_paths,
    form_token,
    merge,
    pool_sessions,
    reuse_sessions,
)
from bench.clock import Clock, say
from bench.commands import last_json, manage, run_logged
from bench.config import (
    CONNECTIONS,
    HASH_TIMES,
    OTHERS_LIMIT,
    POOL,
    PYTHON,
    RSVPS_PER_PARTY,
    SIZES,
    THREADS,
    USERS,
    VAR,
)
from bench.database import Database, databases
from bench.endpoints import ENDPOINTS, build_requests, precheck
from bench.hashlimit import hash_times_mark, hash_times_since, in_run_limit, pinned_argon2_limit
from bench.load import write_spec, wrk
from bench.report import chart, table
from bench.serve import RssSampler, Server, django_env
from bench.verdict import evaluate, fmt_size


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
            [str(PYTHON), "-m", "bench.prepare", "--pool", ",".join(POOL)],
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
                since = cpu.mark()
                stats = wrk(server.port, spec, args.duration, VAR / "wrk" / spec.stem)
                others = cpu.others_cpu(since, db.db_name)
                memory = sampler.stop()
                if endpoint.name == "login":
                    # The checks of the requests wrk left queued count too: they
                    # ran at this moment's speed.
                    server.drain()
                    limit = in_run_limit(hash_times_since(checks_mark), pinned["cores"], others)
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
