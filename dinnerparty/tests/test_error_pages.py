"""The error pages in production (DEBUG off, hashed static files): they render
even when `collectstatic` never ran or a file is missing from the manifest."""

import secrets
import textwrap

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import Client

from accounts.tests.factories import UserFactory
from dinnerparty.tests.helpers import run_manage

pytestmark = pytest.mark.django_db

FORGIVING = "dinnerparty.storage.ForgivingManifestStaticFilesStorage"


@pytest.fixture
def uncollected(settings, tmp_path):
    """Production's static storage over an empty STATIC_ROOT: no manifest at all."""
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": FORGIVING},
    }


def test_a_missing_page_shows_the_custom_404_without_collected_static_files(uncollected, caplog):
    response = Client(raise_request_exception=False).get("/no-such-page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "We couldn't find that page" in page
    assert 'href="/static/css/site.css"' in page  # linked by its plain name
    assert "not in the manifest: run collectstatic" in caplog.text


def test_a_logged_in_member_gets_the_custom_404_too(uncollected):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory())

    response = client.get("/parties/999999/")

    assert response.status_code == 404
    assert "We couldn't find that page" in response.content.decode()


def test_a_collected_file_is_still_linked_by_its_hashed_name(settings, tmp_path):
    (tmp_path / "staticfiles.json").write_text(
        '{"paths": {"css/site.css": "css/site.0123456789ab.css"}, "version": "1.0"}'
    )
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": FORGIVING}}

    assert staticfiles_storage.url("css/site.css") == "/static/css/site.0123456789ab.css"


def test_the_500_page_needs_no_static_tag_request_or_database():
    from django.template import loader

    page = loader.get_template("500.html").render({})

    assert "Something went wrong on our side" in page
    assert "{%" not in page


NOT_FOUND_PROBE = textwrap.dedent(
    """
    from django.test import Client

    response = Client(raise_request_exception=False).get("/no-such-page/", secure=True)
    page = response.content.decode()
    print("PROBE", response.status_code, "We couldn't find that page" in page)
    """
)


@pytest.mark.slow
def test_make_serve_without_collectstatic_shows_the_custom_404(tmp_path):
    """As `make serve` runs, in a fresh interpreter with DJANGO_ENV=production, but
    with `collectstatic` never run: no manifest at all."""
    (tmp_path / "probe_settings.py").write_text(
        "from dinnerparty.settings import *  # noqa: F403\n"
        f"STATIC_ROOT = {str(tmp_path / 'static')!r}\n"
    )
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(45),
        "ALLOWED_HOSTS": "testserver",
        "SITE_URL": "https://testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "probe_settings",
        "PYTHONPATH": str(tmp_path),
    }
    assert run_manage("migrate", "--noinput", env=env).returncode == 0

    result = run_manage("shell", "-c", NOT_FOUND_PROBE, env=env)

    assert "PROBE 404 True" in result.stdout, result.stdout + result.stderr
