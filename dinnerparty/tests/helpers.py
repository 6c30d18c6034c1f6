"""Running manage.py in a fresh interpreter, as an operator would, untouched by
the test run's own environment."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Variables of the outer environment that would change what the settings read.
SETTINGS_VARIABLES = (
    "DJANGO_ENV",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SITE_URL",
    "PORT",
    "DATABASE_URL",
    "DB_PREPARED_STATEMENTS",
    "REDIS_URL",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD",
    "BEHIND_HTTPS_PROXY",
    "FORWARDED_ALLOW_IPS",
    "TRUSTED_PROXY_COUNT",
    "LOGIN_FAILURES_PER_ACCOUNT",
    "LOGIN_FAILURES_PER_DEVICE",
    "LOGIN_FAILURES_PER_IP",
    "SIGNUP_ATTEMPTS_PER_IP_PER_HOUR",
    "PASSWORD_RESETS_PER_ADDRESS_PER_HOUR",
    "PASSWORD_RESETS_PER_IP_PER_HOUR",
    "EMAIL_CONFIRMATIONS_PER_ACCOUNT_PER_HOUR",
    "DJANGO_SETTINGS_MODULE",
    "PYTHONPATH",
)


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """manage.py `args` with only `env` set of the variables the settings read."""
    clean_env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    return subprocess.run(  # noqa: S603 - fixed arguments, our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env={**clean_env, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
