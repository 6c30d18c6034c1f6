"""End-to-end tests: Chromium driven by Playwright against pytest-django's live_server.

One browser per test session, a fresh browser context (cookies, viewport) per page a
test opens, so several people can use the site side by side in one test.

The browser is Debian's Chromium (``apt-get install -y chromium``), found through
``CHROMIUM_PATH`` or ``/usr/bin/chromium``; a Chromium that Playwright downloaded
itself works too. Without one, every e2e test is skipped with a reason saying how to
install one, unless ``E2E_NO_SKIP=1`` (for CI), which turns any e2e skip into a failure.
Helpers the tests share are in e2e/helpers.py.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from accounts.models import User
from e2e.helpers import PASSWORD, evening_in
from parties.models import DinnerParty, Visibility

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEBIAN_CHROMIUM = "/usr/bin/chromium"
INSTALL_HINT = (
    "no Chromium for the end-to-end tests: install one with `apt-get install -y chromium` "
    "(or set CHROMIUM_PATH to a Chromium or Chrome binary, or run "
    "`.venv/bin/playwright install chromium` where downloads are allowed)"
)

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the e2e tests last, so the browser (and the event loop Playwright's sync
    API keeps running in this thread) is only alive at the end of a mixed run."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """With E2E_NO_SKIP=1 (CI), a skipped e2e test is a failed one."""
    report = yield
    if (
        os.environ.get("E2E_NO_SKIP") == "1"
        and report.skipped
        and not hasattr(report, "wasxfail")
        and item.get_closest_marker("e2e") is not None
    ):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"E2E_NO_SKIP=1, but this e2e test was skipped: {reason}"
    return report


def chromium_executable(playwright_chromium) -> str | None:
    """The Chromium to launch: CHROMIUM_PATH, Debian's, or Playwright's own.
    Returns "" for Playwright's own browser and None when there is none."""
    configured = os.environ.get("CHROMIUM_PATH", "").strip()
    if configured:
        if not os.access(configured, os.X_OK):
            pytest.skip(f"CHROMIUM_PATH={configured} is not an executable file; {INSTALL_HINT}")
        return configured
    if os.access(DEBIAN_CHROMIUM, os.X_OK):
        return DEBIAN_CHROMIUM
    if Path(playwright_chromium.executable_path).is_file():
        return ""
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # Playwright's sync API runs an asyncio loop in this thread, so Django would
    # refuse ORM calls from the tests (SynchronousOnlyOperation). The documented way
    # out, for as long as that loop runs and for these tests only:
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            executable = chromium_executable(playwright.chromium)
            if executable is None:
                pytest.skip(INSTALL_HINT)
            browser = playwright.chromium.launch(
                executable_path=executable or None, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser: Browser, live_server, transactional_db) -> Iterator[Callable[..., Page]]:
    """Open a page in a browser context of its own: `new_page(user)` is already logged
    in as `user`; `new_page(phone=True)` is a 375×740 touch screen."""
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def open_page(user: User | None = None, *, phone: bool = False) -> Page:
        options = {"is_mobile": True, "has_touch": True} if phone else {}
        context = browser.new_context(
            base_url=live_server.url,
            viewport=PHONE if phone else DESKTOP,
            locale="en-GB",
            **options,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        if user is not None:
            log_in_by_cookie(context, user, live_server.url)
        page = context.new_page()
        page.on("console", lambda message: watch_console(message, problems))
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)


def watch_console(message, problems: list[str]) -> None:
    """Content-Security-Policy violations show up only in the console: collect them."""
    if message.type == "error" and "Content Security Policy" in message.text:
        problems.append(f"CSP violation: {message.text}")


def log_in_by_cookie(context: BrowserContext, user: User, base_url: str) -> None:
    """Log in without the login form (tests about logging in use the form)."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.value, "url": base_url}]
    )


@pytest.fixture
def make_user(transactional_db) -> Callable[..., User]:
    """`make_user("ana", first_name="Ana")`: a user who logs in with PASSWORD, with
    a confirmed email address (`email_confirmed_at=None`: one not confirmed yet)."""

    def make(username: str, **extra) -> User:
        extra.setdefault("email_confirmed_at", timezone.now())
        return User.objects.create_user(username, f"{username}@example.com", PASSWORD, **extra)

    return make


@pytest.fixture
def make_party(transactional_db) -> Callable[..., DinnerParty]:
    """A public party ten days from now at 19:00 Paris time, with four guest seats."""

    def make(host: User, **fields) -> DinnerParty:
        values = {
            "title": "Paella night",
            "starts_at": evening_in(10),
            "timezone": "Europe/Paris",
            "venue": "12 Rue des Lilas, Paris",
            "main_dish": "Seafood paella",
            "seats": 4,
            "description": "Bring a dessert if you like.",
            "visibility": Visibility.PUBLIC,
            **fields,
        }
        return DinnerParty.objects.create(host=host, **values)

    return make
