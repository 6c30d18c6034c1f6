"""Production refuses to start half-configured; `manage.py test` runs this suite.

These run manage.py in a fresh interpreter, as an operator would.
"""

import json
import os
import re
import secrets
import subprocess

import pytest

from dinnerparty.tests.helpers import PROJECT_ROOT, run_manage


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run_manage(*args, env=env)


@pytest.fixture
def production_env() -> dict[str, str]:
    return {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),  # 67 characters
        "ALLOWED_HOSTS": "example.com",
        "SITE_URL": "https://example.com",
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
@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL"])
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


def site_url(**env: str) -> str:
    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.SITE_URL)", **env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_email_links_in_development_follow_the_port_the_server_uses():
    assert site_url(PORT="8811") == "http://127.0.0.1:8811"
    assert site_url() == "http://127.0.0.1:8000"


@pytest.mark.slow
def test_an_explicit_site_url_wins_over_the_port_in_development():
    assert site_url(PORT="8811", SITE_URL="https://dinner.test/") == "https://dinner.test"


@pytest.mark.slow
def test_make_run_points_email_links_at_its_own_port(tmp_path):
    # `make run` with a stand-in virtualenv whose honcho prints what it was given.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in {"python": "exit 0", "honcho": 'echo "SITE_URL=$SITE_URL"'}.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    (tmp_path / ".runtime").touch()
    env = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "PORT", "MAKEFLAGS"}}

    result = subprocess.run(  # noqa: S603 - fixed arguments, our own Makefile
        ["make", "--no-print-directory", "run", f"VENV={tmp_path}", "PORT=8811"],  # noqa: S607
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )

    assert result.returncode == 0, result.stderr
    assert "SITE_URL=http://127.0.0.1:8811" in result.stdout.splitlines()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TASK_WORKER_CLAIM", "twenty"),
        ("LOGIN_FAILURES_PER_ACCOUNT", "0"),
        ("SESSION_MAX_AGE_HOURS", "2.5"),
    ],
)
def test_a_number_setting_that_is_not_one_stops_with_one_clear_line(name, value):
    result = manage("check", **{name: value})

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Configuration error: {name} must be a whole number"), lines[0]
    assert repr(value) in lines[0]
    assert "Traceback" not in result.stderr


def test_an_empty_number_setting_takes_its_default():
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['CONN_MAX_AGE'])",
        CONN_MAX_AGE="",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "60"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, f"{os.process_cpu_count()} {2 if os.process_cpu_count() == 1 else 1}"),
        ({"TASK_WORKER_PROCESSES": "1"}, "1 2"),  # one process: two threads overlap its waits
        ({"TASK_WORKER_PROCESSES": "3"}, "3 1"),
        ({"TASK_WORKER_PROCESSES": "2", "TASK_WORKER_THREADS": "4"}, "2 4"),
    ],
)
def test_the_worker_runs_a_process_per_core_and_threads_only_when_alone(env, expected):
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; "
        "print(settings.TASK_WORKER_PROCESSES, settings.TASK_WORKER_THREADS)",
        **env,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected
