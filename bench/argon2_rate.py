"""Argon2 password checks per second, per core and in all, with nothing else
running: the benchmark's cross-check of the limit it measures in the login run
itself (bench/README.md).

Uses the hasher Django is configured with (the first of PASSWORD_HASHERS, which
hashes every password the site stores) exactly as a login does: `verify()` of
a stored hash. One process per core, each pinned to its own CPU, hash at the
same time, as the server's workers do during the login run: a core may hash
more slowly while the others hash too (Argon2 leans on memory bandwidth, and a
virtual machine's cores are shared; seen here: 2-10% slower than one core
alone). The limit is the sum of their rates, i.e. the rate per core with every
core busy × cores (bench/run.py runs it with the site's settings,
DJANGO_SETTINGS_MODULE=dinnerparty.settings, so the hasher is the site's own, not
bench.settings' timed one). The rate of one core alone is reported
too (`single_core`). Prints one JSON object.

    .venv/bin/python -m bench.argon2_rate --seconds 3
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dinnerparty.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import get_hasher  # noqa: E402

PASSWORD = "a-benchmark-password-of-some-length"  # noqa: S105 -- hashed and thrown away


def hash_for(seconds: float, cpu: int) -> dict:
    """Verify a stored hash on one pinned CPU for `seconds`; the rate and parameters."""
    os.sched_setaffinity(0, {cpu})
    hasher = get_hasher("default")
    encoded = hasher.encode(PASSWORD, hasher.salt())
    assert hasher.verify(PASSWORD, encoded)  # noqa: S101 -- a broken hasher must not be timed
    count, started = 0, time.perf_counter()
    while True:
        hasher.verify(PASSWORD, encoded)
        count += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds and count >= 3:
            break
    params = {
        name: getattr(hasher, name)
        for name in ("time_cost", "memory_cost", "parallelism", "iterations", "work_factor")
        if hasattr(hasher, name)
    }
    return {
        "algorithm": hasher.algorithm,
        "hasher": f"{type(hasher).__module__}.{type(hasher).__qualname__}",
        "params": params,
        "hashes": count,
        "seconds": elapsed,
        "rate": count / elapsed,
        "cpu": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--cpu", type=int, help="(internal) hash on this CPU only")
    args = parser.parse_args()
    if args.cpu is not None:
        print(json.dumps(hash_for(args.seconds, args.cpu)))
        return
    cpus = sorted(os.sched_getaffinity(0))
    alone = hash_for(args.seconds, cpus[0])
    command = [sys.executable, "-m", "bench.argon2_rate", "--seconds", str(args.seconds)]
    workers = [
        subprocess.Popen([*command, "--cpu", str(cpu)], stdout=subprocess.PIPE, text=True)  # noqa: S603
        for cpu in cpus
    ]
    busy = [json.loads(worker.communicate()[0].strip().splitlines()[-1]) for worker in workers]
    total = sum(result["rate"] for result in busy)
    print(
        json.dumps(
            {
                "algorithm": alone["algorithm"],
                "hasher": alone["hasher"],
                "params": alone["params"],
                "single_core": alone["rate"],
                "per_core": total / len(busy),
                "cores_hashing": len(busy),
                "total": total,
            }
        )
    )


if __name__ == "__main__":
    main()
