"""The admin as a host with staff access sees it: their own parties only."""

import importlib

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from playwright.sync_api import expect

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


def test_a_host_with_staff_access_sees_only_their_own_parties(
    hosts_group, new_page, make_user, make_party
):
    hana = make_user("hana", first_name="Hana", is_staff=True)
    hana.groups.add(hosts_group)
    other_host = make_user("olga", first_name="Olga")
    make_party(hana, title="Hana's paella")
    make_party(hana, title="Hana's tapas")
    others = make_party(other_host, title="Olga's fondue")
    page = new_page()

    page.goto("/admin/")
    page.get_by_label("Username").fill("hana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

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
