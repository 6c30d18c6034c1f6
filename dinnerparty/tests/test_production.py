"""The security headers and cookies of the production settings, seen from outside.

Each probe runs manage.py in a fresh interpreter with DJANGO_ENV=production, as
`make serve` does: a migrated SQLite database in a temporary directory, then a
short script under `manage.py shell -c` that sends requests through Django's
test client (the whole middleware stack, WhiteNoise included) and prints what
came back as JSON. The settings module is dinnerparty.settings with one change:
STATIC_ROOT points into the temporary directory, where collectstatic writes the
manifest that production's hashed static storage needs.
"""

import json
import secrets
import subprocess
import textwrap

import pytest

from dinnerparty.tests.helpers import run_manage

pytestmark = pytest.mark.slow

ONE_YEAR = 365 * 24 * 60 * 60
PASSWORD = "a-long-enough-probe-password-0451"

PROBE = textwrap.dedent(
    f"""
    import json
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.test import Client
    from accounts.models import User

    if not User.objects.filter(username="ana").exists():
        User.objects.create_user("ana", "ana@example.com", {PASSWORD!r})

    def seen(response):
        return {{
            "status": response.status_code,
            "headers": dict(response.headers),
            "cookies": {{
                name: {{
                    "secure": bool(morsel["secure"]),
                    "httponly": bool(morsel["httponly"]),
                    "samesite": morsel["samesite"],
                }}
                for name, morsel in response.cookies.items()
            }},
        }}

    browser = Client()
    css = staticfiles_storage.url("css/site.css")
    print("PROBE " + json.dumps({{
        "home": seen(browser.get("/", secure=True)),
        "healthz": seen(browser.get("/healthz", secure=True)),
        "login_page": seen(browser.get("/accounts/login/", secure=True)),
        "login": seen(browser.post(
            "/accounts/login/", {{"username": "ana", "password": {PASSWORD!r}}}, secure=True
        )),
        "plain_http": seen(Client().get("/parties/?page=2")),
        "forwarded_https": seen(Client().get("/", headers={{"X-Forwarded-Proto": "https"}})),
        "css_url": css,
        "css": seen(Client().get(css, secure=True, headers={{"Accept-Encoding": "gzip"}})),
    }}))
    """
)


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = run_manage(*args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def production_env(tmp_path_factory) -> dict[str, str]:
    """Production variables, a migrated database and collected static files."""
    root = tmp_path_factory.mktemp("production")
    (root / "probe_settings.py").write_text(
        "from dinnerparty.settings import *  # noqa: F403\n"
        f"STATIC_ROOT = {str(root / 'static')!r}\n"
    )
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(45),  # 60 characters
        "ALLOWED_HOSTS": "testserver",
        "SITE_URL": "https://testserver",
        "DATABASE_URL": f"sqlite:///{root / 'prod.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "probe_settings",
        "PYTHONPATH": str(root),
    }
    assert len(env["SECRET_KEY"]) == 60
    manage("migrate", "--noinput", env=env)
    manage("collectstatic", "--noinput", "--verbosity", "0", env=env)
    return env


def probe(env: dict[str, str], **extra: str) -> dict:
    result = manage("shell", "-c", PROBE, env={**env, **extra})
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("PROBE ")]
    return json.loads(line.removeprefix("PROBE "))


def directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in csp.split(";"):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


@pytest.fixture(scope="module")
def seen(production_env) -> dict:
    return probe(production_env)


@pytest.mark.parametrize("page", ["home", "healthz", "login_page"])
def test_every_response_carries_the_security_headers(seen, page):
    response = seen[page]
    headers = response["headers"]

    assert response["status"] == 200, response
    hsts = [part.strip() for part in headers["Strict-Transport-Security"].split(";")]
    assert int(hsts[0].removeprefix("max-age=")) >= ONE_YEAR
    assert "includeSubDomains" in hsts
    assert "preload" not in hsts  # a one-way door: opt-in only
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = [feature.strip() for feature in headers["Permissions-Policy"].split(",")]
    assert {"camera=()", "microphone=()", "geolocation=()"} <= set(policy)
    assert len(headers["X-Request-ID"]) == 32


@pytest.mark.parametrize("page", ["home", "healthz", "login_page"])
def test_the_content_security_policy_is_strict(seen, page):
    csp = seen[page]["headers"]["Content-Security-Policy"]
    policy = directives(csp)

    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert "*" not in csp.split()


def test_the_health_check_answers_in_production(seen):
    assert seen["healthz"]["headers"]["Content-Type"] == "application/json"
    assert "no-cache" in seen["healthz"]["headers"]["Cache-Control"]


def test_session_and_csrf_cookies_are_secure_and_same_site(seen):
    login = seen["login"]

    assert login["status"] == 302, login
    assert login["headers"]["Location"] == "/parties/"
    session = login["cookies"]["sessionid"]
    assert session == {"secure": True, "httponly": True, "samesite": "Lax"}
    csrf = login["cookies"]["csrftoken"]
    assert csrf["secure"] is True
    assert csrf["samesite"] == "Lax"
    assert seen["login_page"]["cookies"]["csrftoken"]["secure"] is True


def test_plain_http_is_redirected_to_https(seen):
    response = seen["plain_http"]

    assert response["status"] == 301
    assert response["headers"]["Location"] == "https://testserver/parties/?page=2"


def test_a_forwarded_proto_header_is_not_trusted_without_a_proxy(seen):
    response = seen["forwarded_https"]

    assert response["status"] == 301
    assert response["headers"]["Location"] == "https://testserver/"


def test_static_files_are_hashed_compressed_and_cached_for_long(seen):
    css = seen["css"]

    # site.<12 hex digits>.css: the manifest storage's content hash.
    name = seen["css_url"].rsplit("/", 1)[1]
    stem, digest, suffix = name.split(".")
    assert (stem, suffix, len(digest)) == ("site", "css", 12)
    assert css["status"] == 200
    assert css["headers"]["Content-Encoding"] == "gzip"
    assert css["headers"]["Content-Type"].startswith("text/css")
    assert "immutable" in css["headers"]["Cache-Control"]


def test_hsts_preload_is_an_opt_in(production_env):
    seen = probe(production_env, SECURE_HSTS_PRELOAD="1")

    hsts = [
        part.strip() for part in seen["home"]["headers"]["Strict-Transport-Security"].split(";")
    ]
    assert int(hsts[0].removeprefix("max-age=")) >= ONE_YEAR
    assert "includeSubDomains" in hsts
    assert "preload" in hsts


def test_behind_an_https_proxy_the_forwarded_proto_counts(production_env):
    seen = probe(production_env, BEHIND_HTTPS_PROXY="1")

    forwarded = seen["forwarded_https"]
    assert forwarded["status"] == 200
    assert "max-age=" in forwarded["headers"]["Strict-Transport-Security"]
    # Without the header the request is plain HTTP, and still redirected.
    assert seen["plain_http"]["status"] == 301
    assert seen["plain_http"]["headers"]["Location"] == "https://testserver/parties/?page=2"


def test_deploy_checks_pass_with_preload_and_proxy(production_env):
    # The default production variables are checked in test_settings.py.
    result = manage(
        "check",
        "--deploy",
        env={**production_env, "SECURE_HSTS_PRELOAD": "1", "BEHIND_HTTPS_PROXY": "1"},
    )

    output = result.stdout + result.stderr
    assert "System check identified no issues" in output
    assert "WARNING" not in output
