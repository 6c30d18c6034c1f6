"""Settings for the benchmark's server: the site's own, plus what bench/ measures with.

bench/run.py starts gunicorn (and its manage.py commands) with
DJANGO_SETTINGS_MODULE=bench.settings. Everything else comes from the
environment exactly as for `make serve`.
"""

import os
from pathlib import Path

from dinnerparty.settings import *  # noqa: F403
from dinnerparty.settings import BASE_DIR, PASSWORD_HASHERS

ROOT_URLCONF = "bench.urls"  # the site's URLs and /bench/hello, the ceiling

# The workers time each password check (bench.hashers): the login run is held to
# the rate those checks ran at. The timed hasher is the site's own Argon2 hasher
# (same algorithm name and costs), so it replaces it rather than sitting beside it.
PASSWORD_HASHERS = [
    "bench.hashers.TimedArgon2Hasher",
    *(h for h in PASSWORD_HASHERS if h != "accounts.hashers.DinnerPartyArgon2Hasher"),
]
BENCHMARK_HASH_TIMES = Path(
    os.environ.get("BENCHMARK_HASH_TIMES", BASE_DIR / "var" / "bench" / "hash-times")
)
