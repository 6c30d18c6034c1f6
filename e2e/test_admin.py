"""The admin as a host with staff access sees it: their own parties only, after the
second factor (set up on the first visit)."""

import importlib
from base64 import b32decode

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from e2e.helpers import PASSWORD, assert_accessible, save_screenshot
from parties.models import DinnerParty

pytestmark = pytest.mark.e2e


@pytest.fixture
def hosts_group(transactional_db) -> Group:
    """The Hosts group, as its data migration makes it. Live-server tests empty every
    table after each test, rows that migrations made included, so when the group has
    gone, the migration's own code makes it again."""
    if not Group.objects.filter(name="Hosts").exists():
        migration = importlib.import_module("parties.migrations.0002_hosts_group")
        migration.create_hosts_group(MigrationLoader(connection).project_state().apps, None)
    return Group.objects.get(name="Hosts")


def code_of(key: bytes) -> str:
    """What an authenticator app holding `key` shows now."""
    return f"{totp(key):06d}"


def admin_log_in(page: Page, username: str) -> None:
    page.goto("/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_host_with_staff_access_sees_only_their_own_parties(
    hosts_group, new_page, make_user, make_party
):
    hana = make_user("hana", first_name="Hana", is_staff=True)
    hana.groups.add(hosts_group)
    other_host = make_user("olga", first_name="Olga")
    make_party(hana, title="Hana's paella")
    make_party(hana, title="Hana's tapas")
    others = make_party(other_host, title="Olga's fondue")
    app = TOTPDevice.objects.create(user=hana, name="Phone")
    page = new_page()

    admin_log_in(page, "hana")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code").fill(code_of(app.bin_key))
    page.get_by_role("button", name="Verify").click()

    expect(page.get_by_role("heading", name="Parties, guests and accounts")).to_be_visible()
    expect(page.get_by_role("link", name="Users")).to_have_count(0)  # not for hosts
    page.get_by_role("link", name="Dinner parties").first.click()
    results = page.locator("#result_list")
    expect(results).to_contain_text("Hana's paella")
    expect(results).to_contain_text("Hana's tapas")
    expect(results).not_to_contain_text("Olga's fondue")
    expect(page.locator(".paginator")).to_contain_text("2 dinner parties")
    assert_accessible(page)
    save_screenshot(page, "admin-parties-desktop")

    page.locator("#searchbar").fill("fondue")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".paginator")).to_contain_text("0 dinner parties")

    page.goto(f"/admin/parties/dinnerparty/{others.pk}/change/")
    expect(page.locator(".messagelist")).to_contain_text("doesn’t exist")
    assert DinnerParty.objects.get(pk=others.pk).title == "Olga's fondue"


def test_the_admin_login_page_is_accessible(new_page):
    page = new_page()
    page.goto("/admin/login/")
    assert_accessible(page)


def test_ana_sets_up_two_step_verification_on_her_first_visit_to_the_admin(
    hosts_group, new_page, make_user, make_party
):
    ana = make_user("ana", first_name="Ana", is_staff=True)
    ana.groups.add(hosts_group)
    make_party(ana, title="Paella on the roof")
    page = new_page()

    admin_log_in(page, "ana")

    expect(page.get_by_role("heading", name="Set up two-step verification")).to_be_visible()
    expect(page.get_by_role("img", name="QR code that adds DinnerParty")).to_be_visible()
    assert_accessible(page)
    save_screenshot(page, "two-factor-setup-desktop")
    # Her app takes the key typed in (as good as scanning it).
    key = b32decode(page.locator("#setup-key").inner_text().replace(" ", ""))
    page.get_by_label("Code from the app").fill(code_of(key))
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Turn on two-step verification").click()

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    recovery_code = codes.first.inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="I've saved them, continue").click()
    expect(page.get_by_role("heading", name="Parties, guests and accounts")).to_be_visible()
    page.get_by_role("link", name="Dinner parties").first.click()
    expect(page.locator("#result_list")).to_contain_text("Paella on the roof")

    # Another browser, her phone left at home: the password, then a recovery code.
    other_browser = new_page()
    admin_log_in(other_browser, "ana")
    expect(other_browser.get_by_role("heading", name="Enter your code")).to_be_visible()
    assert_accessible(other_browser)
    other_browser.get_by_label("Code").fill(recovery_code)
    other_browser.get_by_role("button", name="Verify").click()
    expect(
        other_browser.get_by_role("heading", name="Parties, guests and accounts")
    ).to_be_visible()
    expect(other_browser.locator(".messagelist")).to_contain_text(
        "You used a recovery code; 9 left."
    )
