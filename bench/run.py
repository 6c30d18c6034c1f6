"""`make bench`: load-test DinnerParty against a hello-world ceiling.

For each database (SQLite always, a file under var/bench/; PostgreSQL too when
DATABASE_URL points at one, in a database of its own, `<its database>_bench`) and
each size (1,000 then 100,000 parties with 10 RSVPs each, made by seed_demo):
start gunicorn as `make serve` does (gunicorn.conf.py, DJANGO_ENV=production;
DJANGO_SETTINGS_MODULE=bench.settings for the /bench/hello ceiling and the timed
hasher) and log a pool of generated users in. Drive each endpoint with wrk at
16 connections in short windows that alternate with the ceiling's
(bench.pairing); at the largest size, with a third window beside each of RSVP,
list and party page on a second server without the compiled-query layer
(COMPILED_QUERIES=0). Logins run once, held to the Argon2 limit measured in the
workers' own password checks. The targets are in bench.verdict.

Prints a table and the targets, writes the results to bench/results/<UTC time>.json
and a chart to var/bench/ratios.png. The last line is `bench: all targets met`
or `bench: targets missed: <names>`; the exit code is 1 when a target is missed,
2 when the harness itself failed.

    .venv/bin/python -m bench.run [--window 2] [--pairs 5] [--warmup 1]
        [--login-seconds 8] [--sizes 1000,100000] [--databases sqlite,postgres]
        [--no-compiled] [--results bench/results] [--keep]

The same settings come from BENCH_WINDOW, BENCH_PAIRS, BENCH_WARMUP,
BENCH_LOGIN_SECONDS, BENCH_SIZES, BENCH_DATABASES, BENCH_COMPILED=0 and
BENCH_RESULTS, so `BENCH_SIZES=1000 make bench` works too.
"""

import argparse
import contextlib
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import cpu, mail
from bench.client import (
    DEEP_PAGE,
    Client,
    Session,
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
    MEMBERS_PER,
    OTHERS_LIMIT,
    POOL,
    PYTHON,
    RESULTS,
    RETAKE_SECONDS,
    ROOT,
    RSVPS_PER_PARTY,
    SIZES,
    THREADS,
    USERS,
    VAR,
)
from bench.database import Database, databases
from bench.endpoints import (
    BASELINE,
    COMPILED,
    HELLO,
    LOGIN,
    ONE_PASS,
    PAIRED,
    Endpoint,
    LinkPool,
    build_requests,
    links_needed,
)
from bench.endpoints import precheck as check_once
from bench.hashlimit import hash_times_mark, hash_times_since, in_run_limit, pinned_argon2_limit
from bench.load import Side, alternate, measure, warm, write_spec
from bench.pairing import MIN_QUIET, QUIET_OTHERS, Window, figures, paired, quiet_rounds
from bench.report import chart, compiled_line, table, write_results
from bench.serve import RssSampler, Server, django_env
from bench.verdict import evaluate, fmt_size

MAIL_EMAILS = 1000  # queued for the worker's emails-per-second figure (issue 19)


class Retakes:
    """Seconds a database's runs may spend on windows beyond the planned ones,
    retaking what another process disturbed; then the run goes on with what it has
    (the whole run is held to RUNTIME_LIMIT_S)."""

    def __init__(self, seconds: float) -> None:
        self.left = seconds
        self.spent = 0.0

    def take(self, seconds: float) -> bool:
        if seconds > self.left:
            return False
        self.left -= seconds
        self.spent += seconds
        return True


@dataclass
class Stage:
    """One database at one size, with its data seeded and its users logged in."""

    db: Database
    size: int
    env: dict[str, str]
    args: argparse.Namespace
    clock: Clock
    prep: dict
    sessions: dict[str, Session]
    login_csrf: tuple[dict, str]
    retakes: Retakes

    @property
    def tag(self) -> str:
        return f"{self.db.name} {self.size:,}"

    def requests(self, endpoint: Endpoint) -> list:
        return build_requests(
            endpoint, self.prep, self.sessions, self.login_csrf, window=self.args.window
        )

    def side(self, endpoint: Endpoint, server: Server, name: str = "") -> Side:
        """The endpoint's requests written as a wrk spec, sent to `server` (for a
        single-use endpoint, written anew before each window)."""
        spec = VAR / "specs" / f"{self.db.name}-{self.size}-{endpoint.name}.lua"

        def write() -> None:
            write_spec(spec, endpoint.expect, self.requests(endpoint))

        if endpoint.single_use:
            return Side(name or endpoint.name, server.port, spec, server.drain, refresh=write)
        write()
        return Side(name or endpoint.name, server.port, spec, server.drain)

    def precheck(self, endpoint: Endpoint, server: Server) -> tuple[str, str]:
        return check_once(Client(server.port), endpoint, self.requests(endpoint)[0])

    def path(self, endpoint: Endpoint) -> str:
        """The path the results name for the endpoint."""
        if endpoint.single_use:
            return self.prep["reply_link_pool"].sample
        return self.requests(endpoint)[0].path

    def raw(self, name: str) -> Path:
        """Where wrk's raw output of an endpoint's windows goes (a name prefix)."""
        return VAR / "wrk" / f"{self.db.name}-{self.size}-{name}"


# --- data ------------------------------------------------------------------------


def seed(
    db: Database, size: int, env: dict[str, str], clock: Clock, run: dict, *, reply_links: int = 0
) -> dict:
    """seed_demo up to `size` parties, then bench.prepare's fixtures (with
    `reply_links` single-use reply links, loaded into a `LinkPool`); the seed's
    writes put on disk. Returns what prepare printed."""
    tag, logs = f"{db.name} {size:,}", VAR / "logs"
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
        links_file = VAR / "specs" / f"reply-links-{db.name}-{size}.txt"
        out, _rss = run_logged(
            [
                str(PYTHON),
                "-m",
                "bench.prepare",
                "--pool",
                ",".join(POOL),
                "--reply-links",
                str(reply_links),
                "--links-file",
                str(links_file),
                "--members",
                str(size // MEMBERS_PER),
            ],
            env,
            logs / f"prepare-{db.name}-{size}.log",
        )
        prep = last_json(out)
        run["prepare"] = {k: v for k, v in prep.items() if k != "rsvp_parties"}
        if reply_links:
            prep["reply_link_pool"] = LinkPool.from_file(links_file)
    with clock.phase(f"{tag}: settle (seed written to disk)"):
        db.settle()
    return prep


def log_in(server: Server, prep: dict, logged_in: dict) -> tuple[dict[str, Session], tuple]:
    """The pool's sessions (those of the previous size when still valid: they live
    in the database), and a CSRF cookie and token for the login run."""
    sessions = reuse_sessions(server.port, prep["rsvp_parties"], logged_in)
    if sessions is None:
        sessions = pool_sessions(server.port, prep["rsvp_parties"])
    else:
        say("    sessions from the previous size still valid: reused")
    logged_in.update(parties=prep["rsvp_parties"], sessions=sessions)
    page = Client(server.port).request("GET", "/accounts/login/")
    jar = merge({}, page.cookies)
    return sessions, (jar, form_token(page.body) or jar.get("csrftoken") or "")


# --- measuring ---------------------------------------------------------------------


def result_of(endpoint: Endpoint, windows: list[Window], memory: RssSampler | None) -> dict:
    """An endpoint's figures (bench.pairing.figures) with its status and notes."""
    result: dict = {"label": endpoint.label, **figures(windows)}
    result["status"] = "ok" if result["errors"] == 0 else "errors"
    notes = []
    if result["errors"]:
        notes.append(f"{result['errors']} errors; first: {result['first_error']}")
    if memory is not None:
        result.update(
            worker_rss_mb=round(memory.rss, 1),
            worker_restarts=memory.restarts,
            worker_peak_rss_mb=round(memory.hwm, 1),
        )
        if memory.restarts:
            notes.append(f"{memory.restarts} worker restarts")
    if notes:
        result["note"] = "; ".join(notes)
    return result


def spread_note(ratio: dict, name: str) -> str:
    """'15.8% (14.8%–18.0%)': one of bench.pairing.paired's ratios and its range."""
    return f"{ratio[name]:.1%} ({ratio[f'{name}_min']:.1%}–{ratio[f'{name}_max']:.1%})"


def paired_endpoint(
    stage: Stage,
    server: Server,
    endpoint: Endpoint,
    hello_windows: list[Window],
    without_layer: Server | None = None,
) -> tuple[dict, dict | None]:
    """An endpoint's windows alternating with the ceiling's: its figures, and its
    req/s as a share of the ceiling's, pair by pair. With `without_layer` (a
    second server, COMPILED_QUERIES=0), each round has a third window, the
    endpoint on that server, next to the endpoint's own (ceiling, endpoint, endpoint
    without the layer; then the other way round): the layer's worth, pair by pair.
    Returns the endpoint's result and that comparison."""
    verdict, why = stage.precheck(endpoint, server)
    if verdict != "ok":
        say(f"    {endpoint.name}: {verdict}: {why}")
        return {"label": endpoint.label, "status": verdict, "note": why}, None
    sides = [stage.side(HELLO, server), stage.side(endpoint, server)]
    if without_layer is not None:
        verdict, why = stage.precheck(endpoint, without_layer)
        if verdict != "ok":
            say(f"    {endpoint.name} without the compiled queries: {verdict}: {why}")
            without_layer = None
        else:
            sides.append(stage.side(endpoint, without_layer, f"{endpoint.name}-without-layer"))
    for side in sides[1:]:
        warm(side, stage.args.warmup)
    memory = RssSampler(server.workers)
    memory.start()
    rounds = alternate(
        sides,
        rounds=stage.args.pairs,
        seconds=stage.args.window,
        raw=stage.raw(endpoint.name),
        database=stage.db.db_name,
    )
    # Some rounds quiet, but too few (another process took a core for a while): a
    # few more, while the run's time allows, in the hope that it has finished.
    # With none quiet the machine is busy throughout, and seconds will not change it.
    round_seconds = len(sides) * (stage.args.window + 0.3)
    while (
        0 < quiet_rounds(rounds) < MIN_QUIET
        and len(rounds) < 2 * stage.args.pairs
        and stage.retakes.take(round_seconds)
    ):
        rounds += alternate(
            sides,
            rounds=1,
            seconds=stage.args.window,
            raw=stage.raw(endpoint.name),
            database=stage.db.db_name,
            first=len(rounds),
        )
    memory.stop()
    pairs = [(hello, on) for hello, on, *_ in rounds]
    ratio = paired(pairs, rounds)
    counted = [pairs[i] for i in ratio["used"]]
    hello_windows.extend(hello for hello, _ in counted)
    result = result_of(endpoint, [on for _, on in counted], memory)
    result.update(
        path=stage.path(endpoint),
        hello_rps=round(statistics.median(hello.rps for hello, _ in counted), 1),
        **ratio,
        pairs=[{"hello": hello.as_dict(), endpoint.name: on.as_dict()} for hello, on in pairs],
    )
    if any(hello.errors for hello, _ in pairs):
        result["status"] = "errors"
        result["note"] = f"the ceiling's windows had errors: {pairs[0][0].first_error}"
    calm = f"{ratio['quiet_pairs']} of {len(pairs)} pairs quiet"
    if ratio["disturbed"]:
        calm += f": all counted; other processes took up to {ratio['others_cpu_max']:.2f} cores"
    by_cpu = (
        f"; by CPU time per request {spread_note(ratio, 'cpu_ratio')}" if ratio["cpu_ratio"] else ""
    )
    if ratio["server_ratio"]:
        by_cpu += f", by the server's alone {spread_note(ratio, 'server_ratio')}"
    say(
        f"    {endpoint.name}: {result['ratio']:.1%} of the ceiling "
        f"({result['ratio_min']:.1%}–{result['ratio_max']:.1%} over {len(ratio['used'])} pairs; "
        f"{calm}{by_cpu}), "
        f"{result['rps']:,.0f} req/s against {result['hello_rps']:,.0f}, "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, errors {result['errors']}, "
        f"worker RSS {memory.rss:.0f} MB"
    )
    if without_layer is None:
        return result, None
    return result, layer_worth(endpoint, [(off, on) for _, on, off in rounds], rounds)


def layer_worth(
    endpoint: Endpoint, pairs: list[tuple[Window, Window]], rounds: list[tuple[Window, ...]]
) -> dict:
    """The endpoint with the compiled-query layer against without it, pair by pair."""
    errors = sum(off.errors + on.errors for off, on in pairs)
    ratio = paired(pairs, rounds)  # on ÷ off
    counted = [pairs[i] for i in ratio["used"]]
    worth = {
        "label": endpoint.label,
        "status": "ok" if errors == 0 else "errors",
        "off": figures([off for off, _ in counted]),
        "on": figures([on for _, on in counted]),
        **ratio,
        "pairs": [{"off": off.as_dict(), "on": on.as_dict()} for off, on in pairs],
    }
    say(
        f"    {COMPILED[endpoint.name]} with the compiled queries "
        f"{worth['on']['rps']:,.0f} req/s, without {worth['off']['rps']:,.0f}: "
        f"{worth['ratio'] - 1:+.1%} ({worth['ratio_min'] - 1:+.1%} to "
        f"{worth['ratio_max'] - 1:+.1%} over {len(counted)} pairs), errors {errors}"
    )
    return worth


def login_run(stage: Stage, server: Server, run: dict) -> dict:
    """Logins in one run (a login takes ~1 s at 16 connections, too long for short
    windows), held to the Argon2 limit measured in that run's own password checks."""
    verdict, why = stage.precheck(LOGIN, server)
    if verdict != "ok":
        say(f"    login: {verdict}: {why}")
        return {"label": LOGIN.label, "status": verdict, "note": why}
    log = VAR / "logs" / f"argon2-{stage.db.name}-{stage.size}.log"
    # The machine's own rate, with the server idle: measured once a run.
    pinned = stage.args.pinned_argon2  # (a dict shared by the run's passes)
    if not pinned:
        pinned.update(pinned_argon2_limit(stage.env, stage.args.argon2_seconds, log))
    side = stage.side(LOGIN, server)
    warm(side, stage.args.warmup)
    attempts = []
    while True:
        mark = hash_times_mark()
        memory = RssSampler(server.workers)
        memory.start()
        # measure() drains the server after the run: the checks of the requests
        # wrk left queued count too, they ran at this moment's speed.
        raw = stage.raw(f"login-{len(attempts)}").with_suffix(".txt")
        got = measure(side, stage.args.login_seconds, raw, stage.db.db_name)
        memory.stop()
        limit = in_run_limit(hash_times_since(mark), pinned["cores"], got.others_cpu)
        attempts.append((got, limit, memory))
        if got.others_cpu <= QUIET_OTHERS or len(attempts) == 2:
            break
        if not stage.retakes.take(stage.args.login_seconds + 1):
            break
        say(f"    login run disturbed (other processes took {got.others_cpu:.2f} cores): again")
    # The least disturbed of the runs (chosen by what others took, not by result).
    got, limit, memory = min(attempts, key=lambda attempt: attempt[0].others_cpu)
    run["argon2"] = {
        **{k: pinned[k] for k in ("algorithm", "hasher", "params", "cores")},
        "limit": limit["limit"],
        "in_run": limit,
        "pinned": pinned,
    }
    result = result_of(LOGIN, [got], memory)
    result.update(path="/accounts/login/", runs=len(attempts))
    say(
        f"    login: {result['rps']:,.1f} req/s, p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms, errors {result['errors']}, worker RSS {memory.rss:.0f} MB"
    )
    return result


def bench_one(
    stage: Stage, server: Server, run: dict, without_layer: Server | None = None
) -> dict | None:
    """Every endpoint of one database at one size into `run` (below the largest
    size only the list's page 1, endpoints.BASELINE; logins only at the largest).
    With `without_layer`, the compiled-query comparison of endpoints.COMPILED,
    which it returns."""
    full = stage.size == stage.args.sizes[-1]
    hello_windows: list[Window] = []
    endpoints = PAIRED if full else [e for e in PAIRED if e.name in BASELINE]
    if not stage.args.last_pass:
        endpoints = [e for e in endpoints if e.name not in ONE_PASS]
    if stage.args.reused:  # page 50: see one_size
        endpoints = [e for e in endpoints if e.name != "list-p50"]
    if stage.args.endpoints:  # a quick look at some endpoints only
        endpoints = [e for e in endpoints if e.name in stage.args.endpoints]
    overall = RssSampler(server.workers)
    overall.start()
    warm(stage.side(HELLO, server), stage.args.warmup)
    results: dict[str, dict] = {}
    compiled: dict = {"db": stage.db.name, "size": stage.size, "endpoints": {}}
    for endpoint in endpoints:
        other = without_layer if endpoint.name in COMPILED else None
        label = ", and without the compiled queries" if other else ""
        with stage.clock.phase(f"{stage.tag}: {endpoint.name}, paired with the ceiling{label}"):
            results[endpoint.name], worth = paired_endpoint(
                stage, server, endpoint, hello_windows, other
            )
        if worth is not None:
            compiled["endpoints"][endpoint.name] = worth
    if full and (not stage.args.endpoints or "login" in stage.args.endpoints):
        with stage.clock.phase(f"{stage.tag}: login"):
            results["login"] = login_run(stage, server, run)
    run["worker_peak_rss_mb"] = round(overall.stop().hwm, 1)
    if hello_windows:
        hello = result_of(HELLO, hello_windows, None)
        hello.update(path="/bench/hello", ratio=1.0, worker_rss_mb=None)
        run["endpoints"]["hello"] = hello
    run["endpoints"].update(results)
    return compiled if without_layer is not None else None


def one_size(
    db: Database,
    size: int,
    env: dict[str, str],
    args: argparse.Namespace,
    clock: Clock,
    logged_in: dict,
    retakes: Retakes,
) -> tuple[dict, dict | None]:
    """Seed, serve and measure one database at one size. At the largest size, a
    second server without the compiled-query layer runs beside the first for the
    comparison (returned second)."""
    run: dict = {"db": db.name, "size": size, "endpoints": {}}
    retaken = retakes.spent
    tag, full = f"{db.name} {size:,}", size == args.sizes[-1]
    links = links_needed(window=args.window, pairs=args.pairs) if full and args.last_pass else 0
    prep = seed(db, size, env, clock, run, reply_links=links)
    server = Server(env, VAR / "logs" / f"gunicorn-{db.name}-{size}.log")
    without_layer = None
    if (
        full
        and args.compiled
        and db.name == args.compare_on
        and env.get("COMPILED_QUERIES", "1") != "0"
    ):
        without_layer = Server(
            {**env, "COMPILED_QUERIES": "0"},
            VAR / "logs" / f"gunicorn-{db.name}-{size}-without-compiled-queries.log",
        )
    compiled = None
    try:
        with clock.phase(f"{tag}: start gunicorn"):
            server.start()
            run["workers"] = len(server.workers())
            if without_layer is not None:
                without_layer.start()
        with clock.phase(f"{tag}: log in {len(POOL)} users"):
            sessions, login_csrf = log_in(server, prep, logged_in)
        stage = Stage(db, size, env, args, clock, prep, sessions, login_csrf, retakes)
        if full and not args.reused:
            # (A pass on a database an earlier pass seeded skips page 50: the
            # parties, their SQL and who may see them are the same, only the
            # cache differs, and the earlier pass measured how deep pages cost.)
            with clock.phase(f"{tag}: page {DEEP_PAGE} for each user, by Next links"):
                walked = deep_page_paths(server.port, sessions)
            prep["page50_paths"] = walked
            say(f"    {len(walked)} of {len(sessions)} users have a page 50")
        compiled = bench_one(stage, server, run, without_layer)
    finally:
        server.stop()
        if without_layer is not None:
            without_layer.stop()
    run["retake_seconds"] = round(retakes.spent - retaken, 1)
    measured = [r for r in run["endpoints"].values() if "others_cpu" in r]
    run["others_cpu_max"] = max((r["others_cpu"] for r in measured), default=0)
    if run["others_cpu_max"] > OTHERS_LIMIT:
        say(
            f"    warning: other processes used up to {run['others_cpu_max']:.0%} of a core "
            "in a window: pairs whose sides they slowed unevenly spread wider"
        )
    if compiled:
        say(f"    {compiled_line(compiled)}")
    return run, compiled


# --- the task worker ----------------------------------------------------------------


def worker_mail(db: Database) -> dict:
    """One task worker emptying a queue of MAIL_EMAILS emails into a local SMTP sink
    (bench.mail), with the CPU other processes took meanwhile: on PostgreSQL in this
    pass's database (its queue emptied first); on SQLite in a file of its own
    (bench.mail's own: a worker's figure, not the seeded file's)."""
    since = cpu.mark()
    try:
        result = mail.measure(
            emails=MAIL_EMAILS, database_url=db.url if db.name != "sqlite" else ""
        )
    except Exception as error:  # noqa: BLE001 -- a missed target, not a crashed run
        say(f"    worker: failed: {error}")
        return {"status": "error", "note": str(error)[-500:]}
    result.update(status="ok", others_cpu=round(cpu.others_cpu(since, db.db_name), 3))
    say(f"    worker: {mail.summary(result)}")
    return result


# --- main ----------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--window", type=int, default=int(env("BENCH_WINDOW", "2")), help="seconds per window"
    )
    parser.add_argument(
        "--pairs", type=int, default=int(env("BENCH_PAIRS", "4")), help="pairs per endpoint"
    )
    parser.add_argument("--warmup", type=int, default=int(env("BENCH_WARMUP", "1")))
    parser.add_argument("--login-seconds", type=int, default=int(env("BENCH_LOGIN_SECONDS", "8")))
    parser.add_argument("--sizes", default=env("BENCH_SIZES", ",".join(map(str, SIZES))))
    parser.add_argument(
        "--databases", default=env("BENCH_DATABASES", "sqlite,postgres,postgres+redis")
    )
    parser.add_argument("--argon2-seconds", type=float, default=3.0)
    parser.add_argument(
        "--retake-seconds",
        type=float,
        default=float(env("BENCH_RETAKE_SECONDS", str(RETAKE_SECONDS))),
        help="per database: time for windows retaken because another process disturbed them",
    )
    parser.add_argument(
        "--no-compiled",
        dest="compiled",
        action="store_false",
        default=env("BENCH_COMPILED", "1") != "0",
        help="skip the compiled-query comparison",
    )
    parser.add_argument(
        "--endpoints",
        default=env("BENCH_ENDPOINTS", ""),
        help="only these endpoints (comma-separated names, e.g. rsvp,login; mail: the "
        "worker's emails per second): a quick look",
    )
    parser.add_argument("--results", type=Path, default=Path(env("BENCH_RESULTS", str(RESULTS))))
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    args = parser.parse_args()
    args.sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(",") if s)
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    args.endpoints = {e.strip() for e in args.endpoints.split(",") if e.strip()}
    args.mail = not args.endpoints or "mail" in args.endpoints
    return args


def commit() -> dict:
    """The code measured: the commit, and whether the working tree differed from it."""
    git = shutil.which("git")
    if git is None:
        return {}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(  # noqa: S603 -- git, fixed arguments
            [git, "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(  # noqa: S603
            [git, "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return {"commit": head, "modified": bool(status.strip())}
    return {}


def main() -> int:
    args = parse_args()
    clock = Clock()
    started = datetime.now(UTC)
    if not shutil.which("wrk"):
        say("bench: wrk not found: `apt-get install wrk` (make bench does it)")
        say("bench: targets missed: harness-error")
        return 2
    for sub in ("logs", "specs", "wrk"):
        shutil.rmtree(VAR / sub, ignore_errors=True)  # a previous run's
        (VAR / sub).mkdir(parents=True, exist_ok=True)
    shutil.rmtree(HASH_TIMES, ignore_errors=True)
    secret_key = secrets.token_urlsafe(50)
    dbs = databases(args.databases)
    # The compiled-query layer is compared on one pass, the production database's
    # when it runs (keeping a run with three passes under its time limit).
    names = [d.name for d in dbs]
    args.compare_on = "postgres" if "postgres" in names else next(iter(names), "")
    # Measured once a run and shared by its passes: the pinned Argon2 rate.
    args.pinned_argon2 = {}
    runs: list[dict] = []
    compiled: list[dict] = []
    failures: list[str] = []
    mail_runs: dict[str, dict] = {}
    say(
        f"bench: {', '.join(d.name for d in dbs)} × {', '.join(f'{s:,}' for s in args.sizes)} "
        f"parties; wrk -t{THREADS} -c{CONNECTIONS}; each endpoint {args.warmup}s warm-up, then "
        f"{args.pairs} pairs of {args.window}s windows alternating with the ceiling's; "
        f"{os.cpu_count()} cores"
    )
    try:
        env = django_env(dbs[0], secret_key)
        with clock.phase("collectstatic"):
            manage("collectstatic", "--noinput", env=env, log=VAR / "logs" / "collectstatic.log")
        for i, db in enumerate(dbs):
            env = django_env(db, secret_key)
            # The PostgreSQL + Redis pass measures the production set-up on the
            # PostgreSQL pass's database, as seeded at the largest size: only the
            # cache and session store differ, and the run stays under its limit.
            reused = next((d.name for d in dbs[:i] if d.url == db.url), None)
            sizes = args.sizes[-1:] if reused else args.sizes
            try:
                if not reused:
                    with clock.phase(f"{db.name}: create database and migrate"):
                        db.create()
                        manage(
                            "migrate",
                            "--noinput",
                            env=env,
                            log=VAR / "logs" / f"migrate-{db.name}.log",
                        )
                logged_in: dict = {}
                retakes = Retakes(args.retake_seconds)
                for size in sizes:
                    try:
                        # The endpoints of endpoints.ONE_PASS run in the last pass only.
                        pass_args = argparse.Namespace(
                            **vars(args), last_pass=i == len(dbs) - 1, reused=bool(reused)
                        )
                        run, comparison = one_size(
                            db, size, env, pass_args, clock, logged_in, retakes
                        )
                        if reused:
                            run["database_of"] = reused
                        runs.append(run)
                        if comparison:
                            compiled.append(comparison)
                    except Exception as error:  # noqa: BLE001 -- record it, go on to the next
                        say(f"bench: {db.name} {size:,} failed: {error}")
                        failures.append(f"{db.name}/{fmt_size(size)}-run-failed")
                if not reused and args.mail:
                    with clock.phase(f"{db.name}: one worker over {MAIL_EMAILS:,} queued emails"):
                        mail_runs[db.name] = worker_mail(db)
            except Exception as error:  # noqa: BLE001
                say(f"bench: {db.name} failed: {error}")
                failures.append(f"{db.name}/setup-failed")
            finally:
                if not args.keep and not any(d.url == db.url for d in dbs[i + 1 :]):
                    with contextlib.suppress(Exception):
                        db.drop()
    except Exception:  # noqa: BLE001 -- the summary line must still come last
        traceback.print_exc()
        failures.append("harness-error")
    if runs:
        try:
            title = f"DinnerParty: req/s as a share of hello-world — {started:%Y-%m-%d %H:%M} UTC"
            chart(runs, VAR / "ratios.png", title)
        except Exception as error:  # noqa: BLE001
            say(f"bench: chart failed: {error}")
            failures.append("chart")
    results = {
        "date": started.isoformat(timespec="seconds"),
        "code": commit(),
        "machine": {"cores": os.cpu_count(), "platform": sys.platform},
        "settings": {
            "connections": CONNECTIONS,
            "threads": THREADS,
            "window_s": args.window,
            "pairs": args.pairs,
            "warmup_s": args.warmup,
            "login_s": args.login_seconds,
            "sizes": args.sizes,
            "databases": [db.name for db in dbs],
            "rsvps_per_party": RSVPS_PER_PARTY,
            "pool_users": len(POOL),
            "compiled_queries": os.environ.get("COMPILED_QUERIES", "default"),
            "redis": [db.name for db in dbs if db.redis_url],
        },
        "runs": runs,
        "compiled": compiled,
        "mail": mail_runs,
        "failures": failures,
        "phases": clock.phases,
        "runtime_s": round(clock.elapsed(), 1),
    }
    verdict = evaluate(results)
    results.update(
        targets=[t.__dict__ for t in verdict.targets], missed=verdict.missed, verdict=verdict.line
    )
    path = write_results(results, args.results, started)
    say("")
    say(table(runs))
    for comparison in compiled:
        say(compiled_line(comparison))
    say("")
    for t in verdict.targets:
        say(f"  {'ok  ' if t.ok else 'MISS'} {t.name}: {t.detail}")
    say(f"\nwrote {path} and {VAR / 'ratios.png'}; total {results['runtime_s']:.0f} s")
    say(verdict.line)
    if verdict.ok:
        return 0
    return 2 if "harness-error" in verdict.missed else 1


if __name__ == "__main__":
    sys.exit(main())
