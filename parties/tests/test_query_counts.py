"""Query counts pinned at two sizes: the same number for 1 row as for many,
so a page that starts querying per row (an N+1) fails here."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import UserFactory
from parties import services
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_cache_window")]

# The session and its user are one query: read together (accounts/sessions.py).
SESSION_AND_USER = 1
# the session and user (notices only when the user has some), then the page's own
LIST_QUERIES = SESSION_AND_USER + 1  # + the page's rows (pages are not counted)
# + the parties with their hosts, cards not cached; the viewer's pending invitations
# (cached until they change)
LIST_QUERIES_UNCACHED = LIST_QUERIES + 2
# + may the viewer see it (and their reply), the party with its host, the viewer's
# reply; the replies, dishes, slots and messages when their cache is cold; co-hosts
DETAIL_QUERIES = SESSION_AND_USER + 7
# The hosts' page also lists the invitations sent by email, with each reply.
HOSTS_DETAIL_QUERIES = DETAIL_QUERIES + 1
# A guest's cached page: the access check, which also gives the page's cache key
# (the party's version moves on with every reply).
DETAIL_QUERIES_CACHED = SESSION_AND_USER + 1
# + hosted parties, replies with parties and hosts, the authenticator app if any
# (its two-step verification section says on or off), the calendar feed's token
PROFILE_QUERIES = SESSION_AND_USER + 4
# Staff in the admin have passed the second factor: django-otp's OTPMiddleware loads
# the device their session was verified with (the admin checks it still exists).
# Sessions that are not verified by a device never load one.
VERIFIED_DEVICE = 1
ADMIN_CHANGELIST_QUERIES = SESSION_AND_USER + VERIFIED_DEVICE + 5
ADMIN_CHANGELIST_QUERIES_FOR_A_HOST = ADMIN_CHANGELIST_QUERIES + 2  # + the Hosts group's perms
ICS_QUERIES = SESSION_AND_USER + 1  # + the party with its host
HOME_QUERIES = SESSION_AND_USER + 1  # + public parties' rows
HOME_QUERIES_UNCACHED = HOME_QUERIES + 1  # + the parties with their hosts, cards not cached


@pytest.fixture
def viewer(db):
    return UserFactory(dietary_notes="vegan")


@pytest.fixture
def viewer_client(viewer):
    return client_for(viewer)


def parties_with_replies(size: int, *, host, viewer, **kwargs) -> list:
    """`size` parties by `host`, each with a reply and a note from `viewer`."""
    parties = [DinnerPartyFactory(host=host, seats=10, **kwargs) for _ in range(size)]
    for party in parties:
        services.rsvp_submit(party=party, guest=viewer, status="going", plus_ones=1, note="wine")
    return parties


def party_with_guests(size: int, *, host=None, viewer=None):
    """One party with `size` replies of every kind, some with diets and notes."""
    party = DinnerPartyFactory(host=host or UserFactory(), seats=size)
    guests = [UserFactory(dietary_notes="no nuts" if i % 2 else "") for i in range(size)]
    if viewer is not None:
        guests[0] = viewer
    for i, guest in enumerate(guests):
        status = ("going", "maybe", "declined")[i % 3]
        services.rsvp_submit(party=party, guest=guest, status=status, note=f"brings {i}")
    for _ in range(size):  # then more than fit, so there is a waitlist too
        services.rsvp_submit(party=party, guest=UserFactory(), status="going", plus_ones=1)
    return party


@pytest.mark.parametrize("size", [1, 30])
def test_party_list(django_assert_max_num_queries, viewer, viewer_client, size):
    parties_with_replies(size, host=UserFactory(), viewer=viewer)

    with django_assert_max_num_queries(LIST_QUERIES_UNCACHED):
        response = viewer_client.get(reverse("parties:list"))
    assert len(response.context["parties"]) == min(size, 20)

    with django_assert_max_num_queries(LIST_QUERIES):
        again = viewer_client.get(reverse("parties:list"))
    assert again.content.decode().count('class="card party-card') == min(size, 20)


@pytest.mark.parametrize("size", [1, 50])
def test_party_detail_as_guest(
    django_assert_max_num_queries, django_assert_num_queries, viewer, viewer_client, size
):
    party = party_with_guests(size, viewer=viewer)

    with django_assert_max_num_queries(DETAIL_QUERIES):
        response = viewer_client.get(party.get_absolute_url())

    assert "rsvp_form" in response.context
    assert len(response.context["guests"].going) >= 1

    with django_assert_num_queries(DETAIL_QUERIES_CACHED):
        again = viewer_client.get(party.get_absolute_url())
    assert again.status_code == 200
    assert again.context is None  # served from the cache, not rendered
    assert 'name="status"' in again.content.decode()  # with the reply form


@pytest.mark.parametrize("size", [1, 50])
def test_party_detail_as_host(django_assert_max_num_queries, size):
    host = UserFactory()
    party = party_with_guests(size, host=host)
    invitees = [(f"Invitee {i}", f"invitee{i}@example.com") for i in range(size)]
    services.invitations_send(party=party, by=host, addresses=invitees)
    client = client_for(host)

    with django_assert_max_num_queries(HOSTS_DETAIL_QUERIES):
        response = client.get(party.get_absolute_url())

    assert response.context["is_host"]
    assert len(response.context["invitations"]) == size
    assert response.context["summary"]["head_count"] >= 2


@pytest.mark.parametrize("size", [1, 50])
def test_party_invite_page(django_assert_max_num_queries, viewer_client, size):
    party = party_with_guests(size)
    party.visibility = "private"
    party.save()

    with django_assert_max_num_queries(DETAIL_QUERIES):
        response = viewer_client.get(reverse("parties:invite", args=[party.invite_token]))

    assert response.status_code == 200


@pytest.mark.parametrize("size", [1, 30])
def test_profile_page(django_assert_max_num_queries, viewer, viewer_client, size):
    parties_with_replies(size, host=UserFactory(), viewer=viewer)
    for _ in range(size):
        DinnerPartyFactory(host=viewer)

    with django_assert_max_num_queries(PROFILE_QUERIES):
        response = viewer_client.get(reverse("profile"))

    assert len(response.context["attending"]) == size
    assert len(response.context["hosting"]) == size


@pytest.mark.parametrize("size", [1, 30])
def test_admin_changelist_as_superuser(django_assert_max_num_queries, viewer, size):
    parties_with_replies(size, host=UserFactory(), viewer=viewer)
    client = client_for(UserFactory(is_staff=True, is_superuser=True))

    with django_assert_max_num_queries(ADMIN_CHANGELIST_QUERIES):
        response = client.get(reverse("admin:parties_dinnerparty_changelist"))

    assert len(response.context["cl"].result_list) == size


@pytest.mark.parametrize("size", [1, 30])
def test_admin_changelist_as_host(django_assert_max_num_queries, viewer, size):
    host = UserFactory(is_staff=True)
    host.groups.add(Group.objects.get(name="Hosts"))
    parties_with_replies(size, host=host, viewer=viewer)
    client = client_for(host)

    with django_assert_max_num_queries(ADMIN_CHANGELIST_QUERIES_FOR_A_HOST):
        response = client.get(reverse("admin:parties_dinnerparty_changelist"))

    assert len(response.context["cl"].result_list) == size


@pytest.mark.parametrize("size", [1, 50])
def test_ics(django_assert_max_num_queries, viewer_client, size):
    party = party_with_guests(size)

    with django_assert_max_num_queries(ICS_QUERIES):
        response = viewer_client.get(reverse("parties:calendar", args=[party.pk]))

    assert response.status_code == 200


@pytest.mark.parametrize("size", [1, 30])
def test_home_page(django_assert_max_num_queries, viewer, viewer_client, size):
    parties_with_replies(size, host=UserFactory(), viewer=viewer)

    with django_assert_max_num_queries(HOME_QUERIES_UNCACHED):
        response = viewer_client.get(reverse("home"))
    assert len(response.context["parties"]) == min(size, 6)

    with django_assert_max_num_queries(HOME_QUERIES):
        again = viewer_client.get(reverse("home"))
    assert len(again.context["parties"]) == min(size, 6)


def potluck_party(size: int, dishes: int, *, host, viewer):
    """A hidden-address potluck with two co-hosts, three messages, `size` going
    guests (the viewer first; half with a plus-one of their own needs) and
    `dishes` dishes: every other one claimed by a guest, the rest the host's."""
    party = DinnerPartyFactory(host=host, seats=40, hide_address=True, area="Kreuzberg")
    for _ in range(2):
        services.cohost_add(party=party, user=UserFactory())
    courses = ["starter", "main", "dessert"]
    services.potluck_set_slots(
        party=party, wanted=dict.fromkeys(courses, dishes) | {"side": 1, "drinks": 1}
    )
    guests = [viewer] + [
        UserFactory(diets=["vegan"] if i % 3 else [], allergies=["peanuts"] if i % 2 else [])
        for i in range(1, size)
    ]
    for i, guest in enumerate(guests):
        services.rsvp_submit(
            party=party,
            guest=guest,
            status="going",
            plus_ones=i % 2,
            plus_one_diets=["halal"] if i % 2 else [],
            plus_one_allergies=["milk"] if i % 2 else [],
            note=f"brings {i}",
        )
    for i in range(dishes):
        tags = {"allergens": ["milk", "eggs"][: i % 3], "suits": ["vegetarian"] if i % 2 else []}
        if i % 2 == 0:
            services.slot_claim(
                party=party,
                guest=guests[(i // 2) % size],
                course=courses[i % 3],
                name=f"Dish {i}",
                **tags,
            )
        else:
            services.dish_add(
                party=party, cook=host, course=courses[i % 3], name=f"Dish {i}", **tags
            )
    for audience in ("going", "all", "going"):
        services.announce(party=party, author=host, audience=audience, text=f"To {audience}")
    party.refresh_from_db()
    return party


@pytest.mark.parametrize(("size", "dishes"), [(1, 1), (12, 10)])
def test_potluck_page_as_guest(django_assert_max_num_queries, viewer, viewer_client, size, dishes):
    viewer.allergies = ["eggs"]
    viewer.save()
    party = potluck_party(size, dishes, host=UserFactory(), viewer=viewer)

    with django_assert_max_num_queries(DETAIL_QUERIES):
        response = viewer_client.get(party.get_absolute_url())

    assert sum(len(course.lines) for course in response.context["menu"]) == dishes + 1  # + main
    assert "claim_form" in response.context
    assert len(response.context["announcements"]) == 3
    assert "Dish 0" in response.content.decode()


@pytest.mark.parametrize(("size", "dishes"), [(1, 1), (12, 10)])
def test_potluck_page_as_host(django_assert_max_num_queries, viewer, size, dishes):
    host = UserFactory()
    party = potluck_party(size, dishes, host=host, viewer=viewer)
    client = client_for(host)

    with django_assert_max_num_queries(HOSTS_DETAIL_QUERIES):
        response = client.get(party.get_absolute_url())

    assert sum(len(course.lines) for course in response.context["menu"]) == dishes + 1  # + main
    assert len(response.context["cohosts"]) == 2
    assert response.context["summary"]["head_count"] == 1 + party.seats_taken
    assert "Dinner summary" in response.content.decode()


@pytest.mark.parametrize(("size", "dishes"), [(1, 1), (12, 10)])
def test_potluck_page_as_cohost(django_assert_max_num_queries, viewer, size, dishes):
    party = potluck_party(size, dishes, host=UserFactory(), viewer=viewer)
    client = client_for(party.cohosts.first())

    with django_assert_max_num_queries(HOSTS_DETAIL_QUERIES):
        response = client.get(party.get_absolute_url())

    assert response.context["can_manage"]
    assert sum(len(course.lines) for course in response.context["menu"]) == dishes + 1  # + main


# the session and user; in one transaction (2 statements, BEGIN and COMMIT): the
# party under its lock if the viewer may see it (the permission check), the
# viewer's reply (with whether anyone is waitlisted), save it, seats and version
# in one update, and the emails' task queued (one INSERT: they are written from
# the reply just saved, and the worker sends them). Declining reads the waitlist
# only when someone is on it (test_services), and at a potluck gives back
# claimed dishes.
RSVP_GOING_QUERIES = SESSION_AND_USER + 7
RSVP_DECLINED_QUERIES = RSVP_GOING_QUERIES


@pytest.mark.parametrize("size", [1, 30])
def test_rsvp_post(
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
    task_queue,
    viewer_client,
    size,
):
    party = DinnerPartyFactory(seats=size + 5)
    for _ in range(size):
        services.rsvp_submit(party=party, guest=UserFactory(), status="going")
    url = reverse("parties:rsvp", args=[party.pk])
    queued_before = DBTaskResult.objects.count()

    with (
        django_assert_num_queries(RSVP_GOING_QUERIES),
        django_capture_on_commit_callbacks(execute=True) as emails,
    ):
        going = viewer_client.post(url, {"status": "going", "plus_ones": "0", "note": ""})
    with (
        django_assert_num_queries(RSVP_DECLINED_QUERIES),
        django_capture_on_commit_callbacks(execute=True),
    ):
        declined = viewer_client.post(url, {"status": "declined", "plus_ones": "0", "note": ""})

    assert going.status_code == declined.status_code == 302
    assert emails == []  # nothing waits for the commit: the task's row is in it
    assert DBTaskResult.objects.count() == queued_before + 2
    party.refresh_from_db()
    assert party.seats_taken == size
