"""On PostgreSQL the list query is served by an index at any size (issue 6)."""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.models import User
from parties.cards import LISTING

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

    plan = LISTING.explain(viewer=viewer, now=timezone.now(), limit=21, offset=(page - 1) * 20)

    # The page's ids come from the listing index (however deep the page), its
    # rows by primary key; the parties table is never read whole. (A tiny
    # co-host table may be.) No hash of all the viewer's replies is built.
    assert not re.search(r"Seq Scan on parties_dinnerparty\b(?!_)", plan), plan
    assert "party_listing_idx" in plan, plan
    assert "hashed SubPlan" not in plan, plan
