"""What the party pages read, and the keys their cached copies are kept under."""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.tests.factories import UserFactory
from parties.selectors import VIEWER_FIELDS, viewer_key

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
    assert set(CHANGED) | {"display_name"} == set(VIEWER_FIELDS)
