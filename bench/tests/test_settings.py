"""bench.settings: the site's settings with the benchmark's hasher and ceiling;
the site's own settings have neither."""

import json

import pytest
from django.urls import Resolver404, resolve

from dinnerparty.tests.helpers import run_manage

TIMED = "bench.hashers.TimedArgon2Hasher"
SITE = "accounts.hashers.DinnerPartyArgon2Hasher"

SHOW = (
    "import json; from django.conf import settings; "
    "print(json.dumps({'hashers': settings.PASSWORD_HASHERS, 'urls': settings.ROOT_URLCONF, "
    "'times': str(getattr(settings, 'BENCHMARK_HASH_TIMES', '')), "
    "'databases': settings.DATABASES['default']['NAME']}))"
)


def settings_of(module: str, **env: str) -> dict:
    result = run_manage("shell", "-c", SHOW, env={"DJANGO_SETTINGS_MODULE": module, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_the_benchmark_times_its_checks_with_the_sites_argon2_costs(tmp_path):
    bench = settings_of(
        "bench.settings",
        BENCHMARK_HASH_TIMES=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
    )

    assert bench["hashers"][0] == TIMED
    assert SITE not in bench["hashers"]  # one "argon2" hasher: the timed one
    assert bench["urls"] == "bench.urls"
    assert bench["times"] == str(tmp_path)
    # Everything else is the site's, read from the same environment.
    assert bench["databases"] == str(tmp_path / "x.sqlite3")


@pytest.mark.slow
def test_the_site_has_no_benchmark_hooks():
    site = settings_of("dinnerparty.settings")

    assert site["hashers"][0] == SITE
    assert TIMED not in site["hashers"]
    assert site["urls"] == "dinnerparty.urls"
    assert site["times"] == ""


def test_the_sites_urls_have_no_ceiling():
    with pytest.raises(Resolver404):
        resolve("/bench/hello")
