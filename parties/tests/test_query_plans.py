"""On PostgreSQL the list query is served by an index at any size (issue 6)."""

import re

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import User
from parties.models import DinnerParty

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
    start = (page - 1) * 20
    query = (
        DinnerParty.objects.upcoming()
        .visible_to(viewer)
        .with_viewer(viewer)
        .select_related("host")
        .order_by("starts_at", "pk")[start : start + 21]
    )

    plan = query.explain()

    # (A tiny co-host table may be scanned whole; the parties table never is.)
    assert not re.search(r"Seq Scan on parties_dinnerparty\b(?!_)", plan), plan
    assert "Index Scan using" in plan, plan
    assert "parties_dinnerparty_starts_at" in plan or "party_visibility_starts_idx" in plan, plan
