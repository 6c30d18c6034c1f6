"""Production refuses to start half-configured; `manage.py test` runs this suite.

These run manage.py in a fresh interpreter, as an operator would.
"""

import json
import re
import secrets
import subprocess

import pytest

from dinnerparty.tests.helpers import run_manage


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run_manage(*args, env=env)


@pytest.fixture
def production_env() -> dict[str, str]:
    return {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),  # 67 characters
        "ALLOWED_HOSTS": "example.com",
    }


@pytest.mark.slow
def test_deploy_checks_pass_in_production(production_env):
    result = manage("check", "--deploy", **production_env)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output
    assert "?:" not in output  # how Django prefixes each finding


@pytest.mark.slow
@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without(production_env, missing):
    del production_env[missing]

    result = manage("check", "--deploy", **production_env)

    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_allowed_hosts_of_only_commas_counts_as_missing(production_env):
    production_env["ALLOWED_HOSTS"] = " , "

    result = manage("check", "--deploy", **production_env)

    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


@pytest.mark.slow
def test_manage_py_test_help_works():
    result = manage("test", "--help")

    assert result.returncode == 0, result.stderr
    assert "--keepdb" in result.stdout


@pytest.mark.slow
def test_manage_py_test_runs_pytest():
    # A file with no database tests, so the run leaves this session's test database alone.
    result = manage("test", "common/tests/test_timezones.py")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "test session starts" in result.stdout
    assert re.search(r"=+ \d+ passed in [\d.]+s", result.stdout), result.stdout


def database_options(**env: str) -> dict:
    """The default database's OPTIONS (and ENGINE) as the settings build them (no
    connection made)."""
    result = manage(
        "shell",
        "-c",
        "import json; from django.conf import settings; "
        "db = settings.DATABASES['default']; "
        "print(json.dumps({**db.get('OPTIONS', {}), 'ENGINE': db['ENGINE']}))",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_postgresql_prepares_statements_unless_told_not_to():
    url = "postgres://someone@127.0.0.1:5432/nowhere"

    options = database_options(DATABASE_URL=url)
    assert options["ENGINE"] == "django.db.backends.postgresql"
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5

    # Behind a pooler in transaction mode (PgBouncer before 1.21).
    off = database_options(DATABASE_URL=url, DB_PREPARED_STATEMENTS="0")
    assert "server_side_binding" not in off
    assert "prepare_threshold" not in off
