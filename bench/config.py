"""Where the benchmark keeps its files, and the workload it drives."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"  # one JSON file per run (bench.report.write_results)
VAR = ROOT / "var" / "bench"  # logs, wrk's raw output, request lists, the chart
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
LUA = BENCH / "rotate.lua"
HASH_TIMES = VAR / "hash-times"  # the workers' password checks (bench.hashers)

SIZES = (1_000, 100_000)
RSVPS_PER_PARTY = 10
USERS = 200  # generated users: guest-0 … guest-199
# And accounts that only exist (bench.prepare --members): one per this many parties.
MEMBERS_PER = 5
PASSWORD = "dinner-party-demo-2026"  # noqa: S105 -- seed_demo's DEMO_PASSWORD, public by design
POOL = [f"guest-{i}" for i in range(100, 124)]  # logged-in users for GETs and RSVP POSTs
LOGIN_USERS = [f"guest-{i}" for i in range(150, 174)]  # logged in by the login run
CONNECTIONS = 16
THREADS = 2
PG_BENCH_SUFFIX = "_bench"  # PostgreSQL: <the database in DATABASE_URL>_bench
# Of one core: CPU that processes other than the benchmark's own (bench.load.ours)
# used during a window; above it the run still counts, with a warning.
OTHERS_LIMIT = 0.10
# Per database: seconds of extra windows while other processes disturb the planned
# ones (bench.run.Retakes); a run without disturbance spends none.
RETAKE_SECONDS = 40.0
