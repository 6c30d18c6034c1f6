"""The compiled-query layer's own promises: inputs are declared and never frozen
into the SQL, values are checked as the ORM checks them, the switch gives the
plain ORM, and an untested Django is refused. (What each compiled statement of
the apps finds is tested beside it: parties/tests/test_queries.py.)"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import F, Value
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from compiled_queries.prepared import (
    PreparedDelete,
    PreparedInsert,
    PreparedObjects,
    PreparedQuery,
    PreparedUpdate,
    check_django_version,
)
from parties.models import DinnerParty, Dish
from parties.tests.factories import DinnerPartyFactory

pytestmark = pytest.mark.django_db

HUGE = 99_999_999_999_999_999_999_999  # beyond any integer column


@pytest.fixture
def layer(settings, request):
    settings.COMPILED_QUERIES = request.param
    return request.param


def both_ways(test):
    return pytest.mark.parametrize("layer", [True, False], ids=["compiled", "orm"], indirect=True)(
        test
    )


# --- Inputs are declared, never found again by value ----------------------------


@pytest.fixture
def compiled(settings):
    settings.COMPILED_QUERIES = True


def test_a_constant_derived_from_the_time_is_refused_when_compiled(compiled):
    yesterday = PreparedQuery(
        lambda viewer, now: DinnerParty.objects.filter(
            starts_at__gte=now - timedelta(days=1)
        ).values("pk")
    )
    with pytest.raises(ImproperlyConfigured, match="input 'now' into a constant"):
        yesterday.rows(viewer=AnonymousUser(), now=timezone.now())


def test_the_same_rule_written_in_sql_is_compiled_and_runs_with_each_time(compiled):
    party = DinnerPartyFactory(starts_at=timezone.now() + timedelta(hours=1))
    since = PreparedQuery(
        lambda viewer, now: DinnerParty.objects.filter(
            starts_at__gte=now - Value(timedelta(days=1))
        ).values("pk")
    )
    now = timezone.now()
    assert since.rows(viewer=AnonymousUser(), now=now) == [{"pk": party.pk}]
    assert since.rows(viewer=AnonymousUser(), now=now + timedelta(days=3)) == []


def test_reading_anything_but_the_viewers_id_is_refused_when_compiled(compiled):
    by_name = PreparedQuery(
        lambda viewer, now: DinnerParty.objects.filter(host__username=viewer.username).values("pk")
    )
    with pytest.raises(ImproperlyConfigured, match=r"viewer\.username"):
        by_name.rows(viewer=UserFactory())


def test_formatting_an_input_into_text_is_refused_when_compiled(compiled):
    titled = PreparedObjects(
        lambda token: DinnerParty.objects.filter(title=f"Party {token}"), token=str
    )
    with pytest.raises(ImproperlyConfigured, match="'token' into a constant"):
        titled.first(token="abc")


def test_an_input_the_query_does_not_use_is_refused_when_compiled(compiled):
    ignores = PreparedObjects(lambda pk: DinnerParty.objects.all(), pk=int)
    with pytest.raises(ImproperlyConfigured, match=r"ignores its inputs \['pk'\]"):
        ignores.first(pk=1)


def test_inputs_are_declared_as_int_str_or_datetime():
    with pytest.raises(ImproperlyConfigured, match="declared as 0"):
        PreparedObjects(lambda pk: DinnerParty.objects.filter(pk=pk), pk=0)


def test_a_call_gives_exactly_the_declared_inputs():
    by_pk = PreparedObjects(lambda pk: DinnerParty.objects.filter(pk=pk), pk=int)
    with pytest.raises(TypeError, match=r"takes \['pk'\]"):
        by_pk.first(id=1)


# --- Values checked as the ORM checks them, either way -------------------------


@both_ways
def test_an_id_beyond_the_column_finds_nothing(layer):
    by_pk = PreparedObjects(lambda pk: DinnerParty.objects.filter(pk=pk), pk=int)
    assert by_pk.first(pk=HUGE) is None
    assert by_pk.all(pk=-HUGE) == []
    with pytest.raises(DinnerParty.DoesNotExist):
        by_pk.get(pk=HUGE)


@both_ways
def test_text_with_a_nul_byte_finds_nothing(layer):
    by_token = PreparedObjects(
        lambda token: DinnerParty.objects.filter(invite_token=token), token=str
    )
    DinnerPartyFactory()
    assert by_token.first(token="abc\x00def") is None


@both_ways
def test_an_offset_beyond_any_page_finds_nothing(layer):
    DinnerPartyFactory(starts_at=timezone.now() + timedelta(days=1))
    page = PreparedQuery(
        lambda viewer, now, limit, offset: (
            DinnerParty.objects.upcoming(now).order_by("pk").values("pk")[offset : offset + limit]
        ),
        shape=("limit", "offset"),
    )
    now = timezone.now()
    assert len(page.rows(viewer=AnonymousUser(), now=now, limit=20, offset=0)) == 1
    assert page.rows(viewer=AnonymousUser(), now=now, limit=20, offset=HUGE) == []
    assert page.rows(viewer=AnonymousUser(), now=now, limit=20, offset=-1) == []


@both_ways
def test_writes_with_an_id_beyond_the_column_change_nothing(layer):
    party = DinnerPartyFactory()
    move = PreparedUpdate(
        lambda pk, by: (DinnerParty.objects.filter(pk=pk), {"version": F("version") + by}),
        pk=int,
        by=int,
    )
    drop = PreparedDelete(lambda pk: Dish.objects.filter(party_id=pk), pk=int)
    assert move.run(pk=HUGE, by=1) == 0
    assert drop.run(pk=HUGE) == 0
    assert move.run(pk=party.pk, by=2) == 1
    party.refresh_from_db()
    assert party.version == 2


# --- The switch ----------------------------------------------------------------


def test_with_the_switch_off_the_plain_queryset_runs_and_nothing_is_compiled(settings):
    settings.COMPILED_QUERIES = False
    party = DinnerPartyFactory()
    by_pk = PreparedObjects(lambda pk: DinnerParty.objects.filter(pk=pk), pk=int)
    with CaptureQueriesContext(connection) as queries:
        assert by_pk.get(pk=party.pk) == party
    assert len(queries) == 1
    assert by_pk._compiled == {}


def test_both_ways_give_the_same_instances(settings):
    party = DinnerPartyFactory()
    by_host = PreparedObjects(
        lambda host_id: DinnerParty.objects.select_related("host").filter(host_id=host_id),
        host_id=int,
    )
    settings.COMPILED_QUERIES = True
    compiled = by_host.get(host_id=party.host_id)
    settings.COMPILED_QUERIES = False
    orm = by_host.get(host_id=party.host_id)
    assert by_host._compiled  # (the first call compiled it)
    assert compiled == orm
    assert compiled.host.username == orm.host.username
    assert compiled.title == orm.title


# --- Tied to the Django it was tested on ---------------------------------------


def test_an_untested_django_minor_version_is_refused_at_start_up(settings):
    settings.COMPILED_QUERIES = True
    with pytest.raises(ImproperlyConfigured, match="COMPILED_QUERIES=0"):
        check_django_version((6, 2, 0, "final", 0))
    check_django_version((6, 1, 9, "final", 0))  # a patch release is fine


def test_with_the_layer_off_any_django_version_starts(settings):
    settings.COMPILED_QUERIES = False
    check_django_version((7, 0, 0, "final", 0))


# --- Inserts ------------------------------------------------------------------------


@both_ways
def test_an_insert_of_a_row_without_its_key_gets_the_key_the_database_drew(layer):
    host = UserFactory()
    new_party = PreparedInsert(DinnerParty)
    party = DinnerParty(
        host=host, title="Soup", starts_at=timezone.now(), venue="Here", main_dish="Soup", seats=4
    )
    with CaptureQueriesContext(connection) as captured:
        new_party.insert(party)
    assert party.pk is not None
    assert not party._state.adding
    assert [q["sql"].split()[0] for q in captured] == ["INSERT"]
    stored = DinnerParty.objects.get(pk=party.pk)
    assert (stored.title, stored.host_id, stored.seats) == ("Soup", host.pk, 4)
    again = DinnerParty(
        host=host, title="Stew", starts_at=timezone.now(), venue="Here", main_dish="Stew", seats=2
    )
    new_party.insert(again)
    assert again.pk not in (None, party.pk)
