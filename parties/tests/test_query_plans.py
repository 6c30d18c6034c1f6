"""On PostgreSQL the list query, and the lookups of accounts by name or address,
are served by an index at any size, also once they run as prepared statements
(planned without their values: `generic_plan`)."""

import datetime
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from psycopg import sql

from accounts.backends import accounts_named
from accounts.forms import email_taken
from accounts.models import User, accounts_with_address
from parties.models import RSVP, DinnerParty, EmailDelivery, RSVPStatus
from parties.notifications import recorded_before
from parties.queries import (
    ADDRESS_AND_USERNAMES,
    LISTING,
    REPLY_UNDER_LOCK,
    USERNAME_INPUTS,
    _address_and_usernames,
)
from parties.services import account_for_address
from parties.tests.helpers import worker_for_tests

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


# --- prepared statements: planned once, without their values ------------------------------
# Server-side binding sends every value as a parameter, and from its fifth run a
# statement is prepared: PostgreSQL may then keep one plan made without the values.
# A condition that must match a partial index's (`email <> ''`, `status = 'READY'`)
# is written as a constant (common.sql), or that plan reads the whole table.


def pg_type(value) -> str:
    for kind, name in ((bool, "boolean"), (int, "bigint"), (datetime.datetime, "timestamptz")):
        if isinstance(value, kind):
            return name
    return "text"


def generic_plan(queryset: QuerySet) -> str:
    """The plan PostgreSQL makes for `queryset` as a prepared statement, without
    knowing its parameters' values (what it may keep from the sixth run on)."""
    query, params = queryset.query.sql_with_params()
    numbers = iter(range(1, len(params) + 1))
    query = re.sub("%s", lambda _: f"${next(numbers)}", query)
    types = ", ".join(pg_type(value) for value in params)
    values = sql.SQL(", ").join(sql.Literal(value) for value in params)
    with connection.cursor() as cursor:
        cursor.execute(f"PREPARE probe ({types}) AS {query}")
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        try:
            cursor.execute(f"EXPLAIN EXECUTE probe ({values.as_string(connection.connection)})")
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET plan_cache_mode")
            cursor.execute("DEALLOCATE probe")


def test_a_prepared_login_lookup_still_reads_the_two_indexes():
    many_accounts(3_000)

    plan = generic_plan(accounts_named("member-77@example.com"))

    assert "Seq Scan on accounts_user" not in plan, plan
    assert "accounts_user_email_ci_unique" in plan, plan


def test_a_prepared_reply_by_link_lookup_still_reads_the_address_index():
    many_accounts(3_000)
    usernames = {name: f"member-{n}" for n, name in enumerate(USERNAME_INPUTS)}
    now = timezone.now()

    plan = generic_plan(
        _address_and_usernames(AnonymousUser(), now, "member-77@example.com", now, **usernames)
    )

    assert "Seq Scan on accounts_user" not in plan, plan
    assert "accounts_user_email_ci_unique" in plan, plan


def test_a_prepared_lookup_of_an_address_reads_the_address_index():
    """The preview's reply (`account_for_address`), the sign-up's "taken?"
    (`email_taken`) and the release of a stale address all look it up so."""
    many_accounts(3_000)

    plan = generic_plan(accounts_with_address("Member-77@example.com"))

    assert "Seq Scan on accounts_user" not in plan, plan
    assert "accounts_user_email_ci_unique" in plan, plan
    assert account_for_address("Member-77@example.com").username == "member-77"
    assert email_taken("MEMBER-77@example.com")


def test_a_prepared_claim_of_due_tasks_reads_the_queues_index():
    """A week of finished tasks stays in the table (TASK_RESULTS_KEEP_DAYS)."""
    now = timezone.now()
    DBTaskResult.objects.bulk_create(
        DBTaskResult(
            status="SUCCESSFUL" if number % 100 else "READY",
            args_kwargs={"args": [], "kwargs": {}},
            task_path="parties.notifications.send_reminder_email",
            backend_name="default",
            run_after=now,
        )
        for number in range(5_000)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {DBTaskResult._meta.db_table}")

    plan = generic_plan(worker_for_tests(claim=20)._ready()[:20])

    assert "tasks_db_new_ordering_idx" in plan, plan


def test_a_prepared_rerun_lookup_of_a_sent_email_reads_its_index():
    EmailDelivery.objects.bulk_create(
        EmailDelivery(template="t", to=f"g{n}@example.com", subject="s", task_key=f"{n:064}")
        for n in range(3_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE parties_emaildelivery")

    assert "email_delivery_once_per_task" in generic_plan(recorded_before("7" * 64))


def test_a_prepared_reply_under_the_lock_asks_the_partys_index_whether_anyone_waits():
    many_accounts(60)
    guests = list(User.objects.filter(username__startswith="member-"))
    parties = DinnerParty.objects.bulk_create(
        DinnerParty(
            host=guests[0],
            title=f"Supper {number}",
            starts_at=timezone.now() + datetime.timedelta(days=3),
            venue="Here",
            main_dish="Soup",
            seats=100,
        )
        for number in range(60)
    )
    RSVP.objects.bulk_create(
        RSVP(party=party, guest=guest, status=RSVPStatus.GOING)
        for party in parties
        for guest in guests
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE parties_rsvp")

    plan = generic_plan(REPLY_UNDER_LOCK.build(party_id=parties[7].pk, guest_id=guests[7].pk))

    assert "Seq Scan on parties_rsvp" not in plan, plan
    assert "rsvp_party_status_idx" in plan, plan
