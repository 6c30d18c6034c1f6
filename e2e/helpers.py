"""What the e2e tests share besides fixtures: how to read the page, fill forms, check
accessibility and save screenshots."""

import re
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

PASSWORD = "a-long-table-by-the-window-7"  # 15+ characters, none of them the site's words
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
BLOCKING_IMPACTS = {"serious", "critical"}
IS_INVALID = re.compile(r"\bis-invalid\b")


def evening_in(days: int, zone: str = "Europe/Paris") -> datetime:
    """19:00 in `zone`, `days` from today there."""
    local_today = timezone.now().astimezone(ZoneInfo(zone)).date()
    return datetime.combine(local_today + timedelta(days=days), time(19), tzinfo=ZoneInfo(zone))


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Fill in and send the login form the page shows."""
    page.get_by_label("Username or email").fill(username)
    page.get_by_role("textbox", name="Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()


def messages(page: Page) -> Locator:
    """The flash messages region (role=status)."""
    return page.locator(".messages")


def field_error(page: Page, name: str) -> Locator:
    """The error text crispy-forms renders next to the field called `name`."""
    return page.locator(f"#div_id_{name} .invalid-feedback")


def expect_field_error(page: Page, name: str, text: str) -> None:
    """`text` is shown next to the field `name`, which is marked invalid and points
    screen readers at the error (aria-invalid, aria-describedby)."""
    expect(field_error(page, name)).to_contain_text(text)
    field = page.locator(f"#id_{name}")
    expect(field).to_have_class(IS_INVALID)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", re.compile(rf"\bid_{name}_error\b"))


def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"{page.url}\n{results.generate_report()}"


def save_screenshot(page: Page, name: str) -> Path:
    """A full-page PNG in var/screenshots/, for people to review the look."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path
