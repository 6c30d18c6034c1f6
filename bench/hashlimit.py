"""The Argon2 limit a login run is held to: measured in the workers' own password
checks (bench.hashers), with a pinned measurement beside it as a cross-check."""

from pathlib import Path

from bench.clock import say
from bench.commands import last_json, run_logged
from bench.config import HASH_TIMES, PYTHON


def pinned_argon2_limit(env: dict[str, str], seconds: float, log: Path) -> dict:
    """The hash rate of bench.argon2_rate: one process per core, pinned, with
    the server idle (a cross-check of the in-run limit, and one core's rate)."""
    # The site's settings, so the site's hasher itself, not the timed one.
    env = {**env, "DJANGO_SETTINGS_MODULE": "dinnerparty.settings"}
    out, _rss = run_logged(
        [str(PYTHON), "-m", "bench.argon2_rate", "--seconds", str(seconds)], env, log
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


def in_run_limit(checks: list[tuple[float, float]], cores: int, others_cpu: float) -> dict:
    """The Argon2 limit from the login run's own password checks: hashes per
    second of CPU, per core, × the cores the benchmark had. Measured in the
    workers while they served the logins, so a change in this machine's speed
    during the run (it moves by more than 10% within seconds) weighs on the
    logins and on their limit alike. CPU time, not wall time: a check that waited
    for the CPU does not lower it, so the CPU that other processes took during
    the run (`others_cpu`, in cores: tests or a browser beside the benchmark)
    is taken off the cores, or the logins would be held to CPU they never had.
    The limit with every core (`limit_all_cores`) is reported beside it."""
    if not checks:
        return {"hashes": 0, "limit": None}
    cpu = sum(c for c, _ in checks)
    wall = sum(w for _, w in checks)
    per_core = len(checks) / cpu
    cores_left = max(cores - others_cpu, 0.0)
    limit = {
        "hashes": len(checks),
        "cpu_ms_per_hash": round(cpu / len(checks) * 1000, 2),
        "wall_ms_per_hash": round(wall / len(checks) * 1000, 2),
        "per_core": round(per_core, 2),
        "cores": cores,
        "others_cpu": round(others_cpu, 3),
        "cores_left": round(cores_left, 3),
        "limit": round(per_core * cores_left, 2),
        "limit_all_cores": round(per_core * cores, 2),
    }
    say(
        f"    in-run Argon2 limit: {len(checks)} checks in the workers, "
        f"{limit['cpu_ms_per_hash']} ms of CPU each = {per_core:.2f}/s per core × "
        f"{cores_left:.2f} cores = {limit['limit']:.1f}/s (other processes took "
        f"{others_cpu:.2f} of {cores} cores; with all of them: {limit['limit_all_cores']:.1f}/s)"
    )
    return limit
