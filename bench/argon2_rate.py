"""The Argon2 limit for logins: password checks per second on one core.

Uses the hasher Django is configured with (the first of PASSWORD_HASHERS, which
hashes every password the site stores) exactly as a login does: `verify()` of
a stored hash. The process is pinned to one CPU, so argon2's lanes cannot
spread over both cores. Prints one JSON object; bench/run.py multiplies the
rate by the number of cores.

    .venv/bin/python bench/argon2_rate.py --seconds 3
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dinnerparty.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import get_hasher  # noqa: E402

PASSWORD = "a-benchmark-password-of-some-length"  # noqa: S105 -- hashed and thrown away


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    hasher = get_hasher("default")
    encoded = hasher.encode(PASSWORD, hasher.salt())
    assert hasher.verify(PASSWORD, encoded)  # noqa: S101 -- a broken hasher must not be timed
    count, started = 0, time.perf_counter()
    while True:
        hasher.verify(PASSWORD, encoded)
        count += 1
        elapsed = time.perf_counter() - started
        if elapsed >= args.seconds and count >= 3:
            break
    params = {
        name: getattr(hasher, name)
        for name in ("time_cost", "memory_cost", "parallelism", "iterations", "work_factor")
        if hasattr(hasher, name)
    }
    print(
        json.dumps(
            {
                "algorithm": hasher.algorithm,
                "hasher": f"{type(hasher).__module__}.{type(hasher).__qualname__}",
                "params": params,
                "hashes": count,
                "seconds": elapsed,
                "per_core": count / elapsed,
                "cpu": cpu,
            }
        )
    )


if __name__ == "__main__":
    main()
