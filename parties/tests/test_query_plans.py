"""On PostgreSQL the list query, and the lookups of accounts by name or address,
are served by an index at any size."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.backends import accounts_named
from accounts.models import User
from parties.queries import ADDRESS_AND_USERNAMES, LISTING, USERNAME_INPUTS

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.slow,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="query plans are checked on PostgreSQL"
    ),
]


@pytest.mark.parametrize("page", [1, 50])
def test_the_party_list_reads_an_index_not_the_whole_table(page):
    call_command("seed_demo", parties=5_000, users=300, rsvps_per_party=10, verbosity=0)
    viewer = User.objects.get(username="guest-3")

    plan = LISTING.explain(
        viewer=viewer, now=timezone.now(), limit=21, offset=(page - 1) * 20, after=0
    )

    # The page's ids come from the listing index (however deep the page), its
    # rows by primary key; the parties table is never read whole. (A tiny
    # co-host table may be.) No hash of all the viewer's replies is built.
    assert not re.search(r"Seq Scan on parties_dinnerparty\b(?!_)", plan), plan
    assert "party_listing_idx" in plan, plan
    assert "hashed SubPlan" not in plan, plan


def test_a_deep_page_reached_by_next_reads_an_index_from_its_first_card():
    call_command("seed_demo", parties=5_000, users=300, rsvps_per_party=10, verbosity=0)
    viewer, now = User.objects.get(username="guest-3"), timezone.now()
    page_49 = LISTING.rows(viewer=viewer, now=now, limit=20, offset=48 * 20, after=0)

    plan = LISTING.explain(viewer=viewer, now=now, limit=21, offset=0, after=page_49[-1]["pk"])

    # The ids come from the listing index starting at the last card of page 49
    # (one index condition on starts_at, not a thousand entries skipped).
    assert not re.search(r"Seq Scan on parties_dinnerparty\b(?!_)", plan), plan
    listing = re.search(r"Index Only Scan using party_listing_idx.*\n\s*Index Cond: (.*)", plan)
    assert listing, plan
    assert listing.group(1).startswith("(starts_at >= GREATEST("), plan  # now or the anchor


def test_the_party_list_query_is_prepared_once_and_planned_once():
    """Server-side binding with prepared statements (settings.py): a connection
    parses the list's query once, and PostgreSQL settles on one plan for it
    rather than planning it for every request."""
    call_command("seed_demo", parties=300, users=50, rsvps_per_party=5, verbosity=0)
    viewer = User.objects.get(username="guest-3")
    for _ in range(12):
        LISTING.rows(viewer=viewer, now=timezone.now(), limit=21, offset=0, after=0)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE %s",
            ['%"viewer_status"%LIMIT 21%'],
        )
        found = cursor.fetchall()

    assert len(found) == 1, found
    generic, custom = found[0]
    assert generic + custom >= 7  # run as a prepared statement from the 5th time
    assert generic >= 1  # and then without planning it again


def many_accounts(count: int) -> None:
    User.objects.bulk_create(
        User(username=f"member-{number}", email=f"member-{number}@example.com")
        for number in range(count)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_user")


def test_a_login_finds_its_account_by_index_not_by_reading_every_account():
    many_accounts(20_000)

    plan = accounts_named("member-77@example.com").explain()

    # One lookup by each unique index (the username's, the address's), never
    # the whole table: a login costs the same with 20,000 accounts as with 20.
    assert "Seq Scan on accounts_user" not in plan, plan
    assert "accounts_user_username_ci_unique" in plan, plan
    assert "accounts_user_email_ci_unique" in plan, plan


def test_a_reply_by_link_finds_the_address_and_free_usernames_by_index():
    many_accounts(3_000)
    candidates = dict(
        zip(USERNAME_INPUTS, [f"member-{n}" for n in range(len(USERNAME_INPUTS))], strict=True)
    )

    plan = ADDRESS_AND_USERNAMES.explain(
        viewer=AnonymousUser(),
        email="member-77@example.com",
        joined_before=timezone.now(),
        **candidates,
    )

    assert "Seq Scan on accounts_user" not in plan, plan
    assert "accounts_user_username_ci_unique" in plan, plan
    assert "accounts_user_email_ci_unique" in plan, plan
