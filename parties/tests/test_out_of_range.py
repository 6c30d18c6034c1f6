"""Ids, page numbers and tokens no row can have get "not found", never a 500:
whether the compiled queries are on or off, on SQLite and PostgreSQL."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.tests.factories import UserFactory
from parties.models import DinnerParty
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import client_for

pytestmark = pytest.mark.django_db

HUGE = 99_999_999_999_999_999_999_999  # beyond any integer column
BIGINT_MAX = 2**63 - 1

# Every party URL that takes an id, with the method that uses it.
BY_ID = [
    ("parties:detail", "get", {}),
    ("parties:update", "get", {}),
    ("parties:update", "post", {}),
    ("parties:delete", "get", {}),
    ("parties:delete", "post", {}),
    ("parties:rsvp", "post", {"status": "going", "plus_ones": "0"}),
    ("parties:regenerate_invite", "post", {}),
    ("parties:calendar", "get", {}),
    ("parties:dish_add", "post", {"course": "main", "name": "Soup"}),
    ("parties:dish_edit", "get", {"dish_id": None}),
    ("parties:dish_edit", "post", {"dish_id": None}),
    ("parties:dish_remove", "post", {"dish_id": None}),
    ("parties:potluck", "post", {}),
    ("parties:slot_claim", "post", {"course": "main", "name": "Soup"}),
    ("parties:cohost_add", "post", {"username": "someone"}),
    ("parties:cohost_remove", "post", {"user_id": None}),
    ("parties:announce", "post", {"body": "Hello"}),
]


@pytest.fixture(params=[True, False], ids=["compiled", "orm"])
def layer(request, settings):
    settings.COMPILED_QUERIES = request.param


def url_for(name: str, number: int, data: dict) -> str:
    kwargs = {"pk": number}
    kwargs.update({key: number for key, value in data.items() if value is None})
    return reverse(name, kwargs=kwargs)


@pytest.mark.usefixtures("layer")
@pytest.mark.parametrize("number", [HUGE, BIGINT_MAX + 1, BIGINT_MAX, 0], ids=str)
@pytest.mark.parametrize(("name", "method", "data"), BY_ID, ids=lambda v: str(v)[:30])
def test_an_id_no_party_can_have_is_not_found(name, method, data, number):
    DinnerPartyFactory()
    client = client_for(UserFactory())
    body = {key: value for key, value in data.items() if value is not None}
    response = getattr(client, method)(url_for(name, number, data), body)
    assert response.status_code == 404


@pytest.mark.usefixtures("layer")
@pytest.mark.parametrize("page", [str(HUGE), str(BIGINT_MAX), "99999999999999999999"])
def test_a_page_number_beyond_any_page_is_not_found(page):
    DinnerPartyFactory()
    client = client_for(UserFactory())
    assert client.get(reverse("parties:list"), {"page": page}).status_code == 404
    response = client.get(reverse("parties:list"), {"page": "2", "after": str(HUGE)})
    assert response.status_code == 404


@pytest.mark.usefixtures("layer")
@pytest.mark.parametrize("token", ["\x00", "abc\x00def", "x" * 10_000])
def test_an_invite_token_no_party_can_have_is_not_found(token):
    party = DinnerPartyFactory()
    client = client_for(UserFactory())
    assert client.get(reverse("parties:invite", args=[token])).status_code == 404
    assert client.get(party.get_absolute_url(), {"invite": token}).status_code in (200, 404)
    response = client.post(
        reverse("parties:rsvp", args=[party.pk]),
        {"status": "going", "plus_ones": "0", "invite": token},
    )
    assert response.status_code in (302, 404)


@pytest.mark.parametrize("number", [HUGE, -HUGE, BIGINT_MAX + 1], ids=str)
def test_ids_beyond_any_column_among_others_find_only_the_rows_that_exist(number):
    party = DinnerPartyFactory()
    assert list(DinnerParty.objects.filter(pk__in=[number, party.pk])) == [party]
    assert not DinnerParty.objects.filter(pk__in=[number]).exists()


def test_a_group_given_a_permission_id_beyond_any_column_is_refused_not_a_500():
    superuser = UserFactory(is_staff=True, is_superuser=True)
    response = client_for(superuser).post(
        reverse("admin:auth_group_add"), {"name": "Cooks", "permissions": [str(HUGE)]}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["permissions"]
    assert not Group.objects.filter(name="Cooks").exists()


@pytest.mark.parametrize(
    ("name", "method"), [("parties:dish_remove", "post"), ("parties:dish_edit", "get")]
)
def test_a_real_dish_id_under_a_party_id_beyond_any_column_is_not_found(name, method):
    client = client_for(UserFactory())
    response = getattr(client, method)(reverse(name, kwargs={"pk": HUGE, "dish_id": 1}))
    assert response.status_code == 404
