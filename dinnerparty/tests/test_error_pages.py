"""The error pages in production (DEBUG off, hashed static files): they render
even when `collectstatic` never ran or a file is missing from the manifest."""

import re
import secrets
import textwrap

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template import loader
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


ERROR_PAGES = {
    "500.html": ("Something went wrong · DinnerParty", "Something went wrong on our side"),
    "503.html": ("Back in a moment · DinnerParty", "We'll be back in a moment"),
}


def emoji_in(text: str) -> list[str]:
    """Characters from the emoji blocks (pictographs, symbols, dingbats)."""
    return [c for c in text if ord(c) >= 0x1F000 or 0x2600 <= ord(c) <= 0x27BF]


@pytest.mark.parametrize("name", ERROR_PAGES)
def test_each_error_page_renders_without_a_request_a_tag_that_could_fail_or_the_database(
    name, django_assert_num_queries
):
    title, heading = ERROR_PAGES[name]

    with django_assert_num_queries(0):
        page = loader.get_template(name).render({})

    assert f"<title>{title}</title>" in page
    assert "{%" not in page
    assert "{{" not in page
    assert 'href="/static/css/site.css"' in page
    assert '<a class="btn btn-brand" href="/">Go to the home page</a>' in page


@pytest.mark.parametrize("name", ERROR_PAGES)
def test_each_error_page_has_an_inline_icon_hidden_from_screen_readers_and_no_emoji(name):
    page = loader.get_template(name).render({})

    (icon,) = re.findall(r"<svg [^>]*>.*?</svg>", page)
    assert 'aria-hidden="true"' in icon
    assert re.search(r' d="M[^"]+"', icon)
    assert emoji_in(page) == []


def test_the_two_error_pages_share_one_frame_and_differ_only_in_their_words_and_icon():
    pages = [loader.get_template(name).render({}) for name in ERROR_PAGES]

    def frame(page: str) -> str:
        for pattern in (r"<title>.*?</title>", r' d="[^"]*"', r"<h1[^>]*>.*?</h1>"):
            page = re.sub(pattern, "", page)
        return re.sub(r"<p>[^<]*</p>", "", page)

    assert frame(pages[0]) == frame(pages[1])
    assert pages[0] != pages[1]


def test_the_500_page_says_something_went_wrong_and_asks_for_no_retry_time(client, monkeypatch):
    from parties.views import PartyListView

    def broken(self, *args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(PartyListView, "get", broken)
    visitor = Client(raise_request_exception=False)
    visitor.force_login(UserFactory())

    response = visitor.get("/parties/")

    assert response.status_code == 500
    assert "Retry-After" not in response
    page = response.content.decode()
    assert '<h1 class="h3">Something went wrong on our side</h1>' in page
    assert "the kitchen had a problem with that request" in page


def test_the_503_page_asks_to_come_back_with_retry_after(monkeypatch):
    from django.db import OperationalError
    from django.db.backends.base.base import BaseDatabaseWrapper

    from dinnerparty.views import RETRY_AFTER_SECONDS

    def cursor(self):
        raise OperationalError("the database system is starting up")

    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", cursor)

    response = Client(raise_request_exception=False).get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    page = response.content.decode()
    assert '<h1 class="h3">We\'ll be back in a moment</h1>' in page
    assert "Nothing you sent was lost or half-saved" in page


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


def test_whitenoise_tells_hashed_files_apart_without_logging_its_guesses(
    settings, tmp_path, caplog
):
    """WhiteNoise guesses the unhashed name of every file that looks hashed, to
    cache the hashed ones for ever; most guesses (e.g. from a .map file) name no
    file, and were logged as missing from the manifest on every start."""
    from dinnerparty.middleware import StaticFilesMiddleware

    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "site.0123456789ab.css").write_text("body {}")
    (tmp_path / "css" / "bootstrap.min.css.map").write_text("{}")
    (tmp_path / "staticfiles.json").write_text(
        '{"paths": {"css/site.css": "css/site.0123456789ab.css"}, "version": "1.0"}'
    )
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": FORGIVING}}

    files = StaticFilesMiddleware(get_response=lambda request: None)

    assert files.immutable_file_test("", "/static/css/site.0123456789ab.css")
    assert not files.immutable_file_test("", "/static/css/bootstrap.min.css.map")
    assert "not in the manifest" not in caplog.text
    staticfiles_storage.url("css/missing.css")  # a page's own link still says so
    assert "'css/missing.css' is not in the manifest" in caplog.text
