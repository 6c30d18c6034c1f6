"""The benchmark's password hasher: the site's own, timing each check.

`TimedArgon2Hasher` writes down how long each password check took, in CPU time
of the thread that ran it. The benchmark holds the login run to the rate those
same checks ran at, in the same workers at the same moments, so a change in the
shared machine's speed weighs on both sides alike. One line per check,
"<cpu seconds> <wall seconds>", in `settings.BENCHMARK_HASH_TIMES/<pid>.txt`.
Only `bench.settings` puts it in PASSWORD_HASHERS.
"""

import os
import threading
import time
from pathlib import Path

from django.conf import settings

from accounts.hashers import DinnerPartyArgon2Hasher


class TimedArgon2Hasher(DinnerPartyArgon2Hasher):
    """DinnerPartyArgon2Hasher, the same algorithm name and costs (so stored hashes
    check the same and are never re-made), timing each `verify()`."""

    def verify(self, password: str, encoded: str) -> bool:
        cpu, wall = time.thread_time(), time.perf_counter()
        try:
            return super().verify(password, encoded)
        finally:
            record_hash_time(time.thread_time() - cpu, time.perf_counter() - wall)


_times = threading.local()


def record_hash_time(cpu: float, wall: float) -> None:
    # One short line per check into a file kept open by each process (a login
    # takes ~0.1 s): opening it for each check cost ~1% of a login's time in the
    # workers, which the login run then charged to the site.
    path = Path(settings.BENCHMARK_HASH_TIMES) / f"{os.getpid()}.txt"  # a fork: its own
    if getattr(_times, "path", None) != path:
        if getattr(_times, "file", None) is not None:
            _times.file.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        _times.file, _times.path = path.open("a", buffering=1), path  # line-buffered
    _times.file.write(f"{cpu:.6f} {wall:.6f}\n")
