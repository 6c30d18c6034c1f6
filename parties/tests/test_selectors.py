"""What the party pages read, and the keys their cached copies are kept under."""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.tests.factories import UserFactory
from parties.menu import CourseMenu
from parties.models import RSVP, Announcement, DinnerParty
from parties.selectors import VIEWER_FIELDS, announcements_for, claimable_courses, viewer_key

# A new value for each field of the viewer that a page may show.
CHANGED = {
    "pk": 10**6,
    "username": "someone-else",
    "first_name": "Zia",
    "last_name": "Moreau",
    "is_staff": True,
    "is_superuser": True,
    "has_notices": True,
    "timezone": "Pacific/Auckland",
    "diets": ["vegetarian"],
    "allergies": ["sesame"],
    "email": "zia@example.com",
    "pending_email": "zia.new@example.com",
    "email_confirmed_at": None,
    # (shown as `has_password`: a guest account's page offers to set one)
    "password": "!unusable",
}


def test_every_visitor_who_is_not_logged_in_has_the_same_viewer_key():
    assert viewer_key(AnonymousUser()) == viewer_key(AnonymousUser())
    assert viewer_key(AnonymousUser()) != viewer_key(UserFactory.build(pk=1))


@pytest.mark.parametrize("field", CHANGED)
def test_a_change_to_anything_a_page_shows_of_the_viewer_changes_their_key(field):
    viewer = UserFactory.build(pk=1, first_name="Ben", last_name="Lee")
    before = viewer_key(viewer)

    setattr(viewer, field, CHANGED[field])

    assert viewer_key(viewer) != before


def test_the_viewer_key_names_every_field_it_is_made_of():
    derived = {"display_name", "has_password"}  # from the names, and from the password
    assert set(CHANGED) - {"password"} | derived == set(VIEWER_FIELDS)


# --- the party page's read model ------------------------------------------------------


def test_a_guest_reads_the_messages_sent_to_replies_like_theirs_and_the_hosts_read_all():
    to = {audience: Announcement(audience=audience) for audience in ("going", "maybe", "all")}

    def read(status, can_manage=False):
        messages = announcements_for(list(to.values()), status=status, can_manage=can_manage)
        return [a.audience for a in messages]

    assert read("going") == ["going", "all"]
    assert read("maybe") == ["maybe", "all"]
    assert read("waitlisted") == ["all"]
    assert read("declined") == read(None) == []
    assert read(None, can_manage=True) == ["going", "maybe", "all"]


def menu_wanting(**wanted: int) -> list[CourseMenu]:
    return [
        CourseMenu(course=course, label=course.title(), lines=[], wanted_left=count)
        for course, count in wanted.items()
    ]


def test_a_going_guest_may_bring_a_dish_for_each_course_still_wanted_at_a_potluck():
    potluck = DinnerParty(potluck=True)
    menu = menu_wanting(starter=0, main=1, dessert=2)

    assert claimable_courses(potluck, RSVP(status="going"), menu) == [
        ("main", "Main"),
        ("dessert", "Dessert"),
    ]
    assert claimable_courses(potluck, RSVP(status="going"), menu_wanting(main=0)) == []


@pytest.mark.parametrize("status", [None, "maybe", "waitlisted", "declined"])
def test_only_a_going_guest_may_bring_a_dish(status):
    rsvp = RSVP(status=status) if status else None
    assert claimable_courses(DinnerParty(potluck=True), rsvp, menu_wanting(main=1)) == []


def test_nobody_brings_a_dish_to_a_party_that_is_not_a_potluck():
    party = DinnerParty(potluck=False)
    assert claimable_courses(party, RSVP(status="going"), menu_wanting(main=1)) == []
