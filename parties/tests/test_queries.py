"""The party list's lean query (`LISTING`, compiled once) finds exactly what the
ORM rules it is built from find, for every kind of viewer, page and time; the
lookups by key compiled once (`PreparedObjects`) load what `QuerySet.get()` loads."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Count
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from compiled_queries.prepared import (
    PreparedDelete,
    PreparedInsert,
    PreparedObjects,
    PreparedQuery,
    PreparedSave,
    PreparedUpdate,
)
from parties import services
from parties.models import RSVP, DinnerParty, Dish, RSVPStatus, Visibility
from parties.queries import (
    LISTING,
    LOCKED_PARTY,
    PARTY_ACCESS,
    PUBLIC_LISTING,
    QUEUED_TASK,
    RELEASED_CLAIMS,
    REPLY,
    REPLY_UNDER_LOCK,
    SAVE_REPLY,
    SEATS_AND_VERSION,
    WAITLIST,
    _party_access,
)
from parties.tests.factories import DinnerPartyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def compiled(settings):
    """Checks made when a statement is compiled: only with the layer on."""
    settings.COMPILED_QUERIES = True


@pytest.fixture
def cast():
    """Parties of every visibility and relation to the `me` viewer."""
    me, other = UserFactory(username="me"), UserFactory(username="other")
    soon = timezone.now() + timedelta(days=1)

    def party(title, *, days=0, **kwargs):
        return DinnerPartyFactory(title=title, starts_at=soon + timedelta(days=days), **kwargs)

    private = {"visibility": Visibility.PRIVATE}
    parties = {
        "public": party("public", host=other),
        "public-same-time": party("public-same-time", host=other),
        "mine-private": party("mine-private", days=1, host=me, **private),
        "invited-private": party("invited-private", days=2, host=other, **private),
        "cohosted-private": party("cohosted-private", days=3, host=other, **private),
        "stranger-private": party("stranger-private", days=4, host=other, **private),
        "past-public": party("past-public", days=-5, host=other),
    }
    services.rsvp_submit(party=parties["invited-private"], guest=me, status=RSVPStatus.MAYBE)
    services.rsvp_submit(party=parties["public"], guest=me, status=RSVPStatus.GOING)
    services.cohost_add(party=parties["cohosted-private"], user=me)
    return me, other, parties


def orm_listing(viewer, now):
    return list(
        DinnerParty.objects.upcoming(now)
        .visible_to(viewer)
        .with_viewer(viewer)
        .order_by("starts_at", "pk")
        .values_list("pk", "viewer_status", "viewer_cohosts")
    )


def prepared(query: PreparedQuery, viewer, now, **params):
    if query.shape:
        params = {"limit": 50, "offset": 0, **params}
    params = {**{name: kind() for name, kind in query.inputs.items()}, **params}
    rows = query.rows(viewer=viewer, now=now, **params)
    return [(r["pk"], r["viewer_status"], bool(r["viewer_cohosts"])) for r in rows]


def viewer_called(who: str, me, other):
    """The viewer a parametrised test names: one of the cast, or someone new."""
    if who == "stranger":
        return UserFactory()
    if who == "superuser":
        return UserFactory(is_superuser=True)
    return {"me": me, "other": other}[who]


def titles(rows) -> list[str]:
    by_pk = dict(DinnerParty.objects.values_list("pk", "title"))
    return [by_pk[row[0]] for row in rows]


@pytest.mark.parametrize("who", ["me", "other", "stranger", "superuser"])
def test_the_listing_finds_what_the_orm_rules_find(cast, who):
    me, other, _parties = cast
    viewer = viewer_called(who, me, other)
    now = timezone.now()
    assert prepared(LISTING, viewer, now) == orm_listing(viewer, now)


def test_the_listing_shows_me_my_replies_and_co_hosting(cast):
    me, _other, parties = cast
    rows = prepared(LISTING, me, timezone.now())
    assert titles(rows) == [
        "public",
        "public-same-time",
        "mine-private",
        "invited-private",
        "cohosted-private",
    ]
    by_pk = {pk: (status, cohost) for pk, status, cohost in rows}
    assert by_pk[parties["public"].pk] == (RSVPStatus.GOING, False)
    assert by_pk[parties["invited-private"].pk] == (RSVPStatus.MAYBE, False)
    assert by_pk[parties["cohosted-private"].pk] == (None, True)


def test_a_stranger_sees_only_public_parties(cast):
    rows = prepared(LISTING, UserFactory(), timezone.now())
    assert titles(rows) == ["public", "public-same-time"]


def test_the_listing_pages_by_limit_and_offset(cast):
    me, _other, _parties = cast
    now = timezone.now()
    whole = prepared(LISTING, me, now)
    assert prepared(LISTING, me, now, limit=2) == whole[:2]
    assert prepared(LISTING, me, now, limit=2, offset=2) == whole[2:4]
    assert prepared(LISTING, me, now, limit=2, offset=len(whole)) == []


def test_the_listing_runs_with_the_time_it_is_given(cast):
    me, _other, _parties = cast
    later = timezone.now() + timedelta(days=2, hours=12)
    assert titles(prepared(LISTING, me, later)) == ["invited-private", "cohosted-private"]
    assert prepared(LISTING, me, later) == orm_listing(me, later)


def test_the_public_listing_is_the_same_for_every_visitor_but_the_replies(cast):
    me, _other, _parties = cast
    now = timezone.now()
    anonymous = prepared(PUBLIC_LISTING, AnonymousUser(), now)
    assert titles(anonymous) == ["public", "public-same-time"]
    assert all(status is None and not cohost for _pk, status, cohost in anonymous)
    mine = prepared(PUBLIC_LISTING, me, now)
    assert [pk for pk, *_ in mine] == [pk for pk, *_ in anonymous]
    assert mine[0][1] == RSVPStatus.GOING


def test_a_query_that_ignores_a_parameter_is_refused(compiled):
    query = PreparedQuery(lambda viewer, now, pk: DinnerParty.objects.values("pk"), pk=int)
    with pytest.raises(ImproperlyConfigured, match="ignores"):
        query.rows(viewer=AnonymousUser(), pk=5)


def test_a_query_on_the_time_needs_the_time(cast, compiled):
    with pytest.raises(TypeError, match="now="):
        LISTING.rows(viewer=AnonymousUser(), limit=1, offset=0, after=0)


@pytest.mark.parametrize("who", ["me", "other", "stranger", "superuser"])
def test_the_party_access_check_agrees_with_the_orm_rules(cast, who):
    me, other, parties = cast
    viewer = viewer_called(who, me, other)
    now = timezone.now()
    for party in parties.values():
        expected = list(
            DinnerParty.objects.visible_to(viewer)
            .with_viewer(viewer)
            .filter(pk=party.pk)
            .values_list("pk", "viewer_status", "viewer_cohosts")
        )
        assert prepared(PARTY_ACCESS, viewer, now, pk=party.pk, invite_token="") == expected
        by_link = prepared(PARTY_ACCESS, viewer, now, pk=0, invite_token=party.invite_token)
        assert [row[0] for row in by_link] == [party.pk]
    assert prepared(PARTY_ACCESS, viewer, now, pk=0, invite_token="no-such-token") == []
    assert prepared(PARTY_ACCESS, viewer, now, pk=10**9, invite_token="") == []


def test_a_visitors_query_has_no_conditions_on_a_viewer(cast):
    """A visitor has no id: their landing query asks nothing about replies or
    co-hosts (a constant-free query keeps one plan on PostgreSQL)."""
    with CaptureQueriesContext(connection) as visitor:
        PUBLIC_LISTING.rows(viewer=AnonymousUser(), now=timezone.now(), limit=6, offset=0)
    with CaptureQueriesContext(connection) as member:
        PUBLIC_LISTING.rows(viewer=cast[0], now=timezone.now(), limit=6, offset=0)

    assert "parties_rsvp" not in visitor.captured_queries[0]["sql"]
    assert "parties_dinnerparty_cohosts" not in visitor.captured_queries[0]["sql"]
    assert "parties_rsvp" in member.captured_queries[0]["sql"]


def test_a_visitor_sees_public_parties_and_the_one_their_link_opens(cast):
    _me, _other, parties = cast
    visitor = AnonymousUser()
    public = set(
        DinnerParty.objects.filter(visibility=Visibility.PUBLIC).values_list("pk", flat=True)
    )
    assert set(DinnerParty.objects.visible_to(visitor).values_list("pk", flat=True)) == public
    private = parties["mine-private"]
    by_link = DinnerParty.objects.visible_to(visitor, invite_token=private.invite_token)
    assert set(by_link.values_list("pk", flat=True)) == public | {private.pk}


def test_rows_are_named_as_the_orm_names_them(cast):
    """values() keeps the order it is given, fields and annotations mixed: each
    column of a prepared row carries the name the ORM gives it."""
    me, _other, parties = cast
    now = timezone.now()
    for party in parties.values():
        orm = list(_party_access(me, now, party.pk, ""))
        rows = PARTY_ACCESS.rows(viewer=me, now=now, pk=party.pk, invite_token="")
        assert [list(row) for row in rows] == [list(row) for row in orm]
        for row, expected in zip(rows, orm, strict=True):
            for name in ("pk", "invite_token", "viewer_status", "host_id", "version"):
                assert row[name] == expected[name], name
            assert bool(row["viewer_cohosts"]) is expected["viewer_cohosts"]
            assert bool(row["has_started"]) is expected["has_started"]


# --- PreparedObjects: model instances by SQL compiled once ----------------------

RSVP_FOR_EMAIL = PreparedObjects(
    lambda pk: RSVP.objects.select_related("party__host", "guest").filter(pk=pk), pk=int
)


def field_values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_a_prepared_get_loads_what_the_orm_loads_with_its_joined_rows(cast):
    me, _other, parties = cast
    reply = parties["public"].rsvps.get(guest=me)
    reply.plus_one_diets = ["vegan"]  # a JSON field, converted back on loading
    reply.save()
    loaded = RSVP_FOR_EMAIL.get(pk=reply.pk)
    expected = RSVP.objects.select_related("party__host", "guest").get(pk=reply.pk)
    assert field_values(loaded) == field_values(expected)
    assert loaded.plus_one_diets == ["vegan"]
    with CaptureQueriesContext(connection) as queries:  # the joined rows came with it
        assert field_values(loaded.party) == field_values(expected.party)
        assert field_values(loaded.party.host) == field_values(expected.party.host)
        assert field_values(loaded.guest) == field_values(expected.guest)
    assert len(queries) == 0
    assert loaded._state.adding is False
    assert loaded._state.db == "default"


def test_a_prepared_get_raises_as_queryset_get_does(cast):
    me, _other, parties = cast
    with pytest.raises(RSVP.DoesNotExist):
        RSVP_FOR_EMAIL.get(pk=987_654)
    many = PreparedObjects(lambda host_id: DinnerParty.objects.filter(host_id=host_id), host_id=int)
    with pytest.raises(DinnerParty.MultipleObjectsReturned):
        many.get(host_id=parties["public"].host_id)
    assert REPLY.get(party_id=parties["public"].pk, guest_id=me.pk).status == "going"


@pytest.mark.django_db(transaction=True)
def test_a_prepared_locking_get_needs_a_transaction(cast):
    """As `select_for_update()` does where the database locks rows (PostgreSQL)."""
    _me, _other, parties = cast
    party = parties["public"]
    if connection.features.has_select_for_update:
        with pytest.raises(TransactionManagementError):
            LOCKED_PARTY.get(pk=party.pk)
    with transaction.atomic():
        locked = LOCKED_PARTY.get(pk=party.pk)
    assert (locked.pk, locked.host.username) == (party.pk, "other")


def test_a_prepared_get_checks_its_inputs(compiled):
    ignores = PreparedObjects(lambda pk: DinnerParty.objects.all(), pk=int)
    with pytest.raises(ImproperlyConfigured, match="ignores"):
        ignores.get(pk=1)
    with pytest.raises(TypeError, match="take"):
        REPLY.get(party_id=1)


@pytest.mark.parametrize("layer", [True, False], ids=["compiled", "orm"])
def test_a_prepared_get_sets_each_annotation_as_the_orm_does(cast, settings, layer):
    settings.COMPILED_QUERIES = layer
    _me, _other, parties = cast
    counted = PreparedObjects(
        lambda pk: DinnerParty.objects.filter(pk=pk).annotate(replies=Count("rsvps")), pk=int
    )
    party = counted.get(pk=parties["public"].pk)
    assert (party.pk, party.replies) == (parties["public"].pk, 1)
    assert counted.get(pk=parties["stranger-private"].pk).replies == 0


@pytest.mark.parametrize("layer", [True, False], ids=["compiled", "orm"])
def test_a_reply_under_the_lock_says_whether_anyone_at_the_party_is_waitlisted(
    cast, settings, layer
):
    settings.COMPILED_QUERIES = layer
    me, _other, parties = cast
    party = parties["public"]
    with transaction.atomic():
        reply = REPLY_UNDER_LOCK.get(party_id=party.pk, guest_id=me.pk)
    assert (reply.status, reply.anyone_waiting) == (RSVPStatus.GOING, False)
    waiting = UserFactory()
    RSVP.objects.create(
        party=party, guest=waiting, status=RSVPStatus.WAITLISTED, waitlisted_at=timezone.now()
    )
    elsewhere = parties["public-same-time"]
    RSVP.objects.create(
        party=elsewhere, guest=me, status=RSVPStatus.WAITLISTED, waitlisted_at=timezone.now()
    )
    with transaction.atomic():
        assert REPLY_UNDER_LOCK.get(party_id=party.pk, guest_id=me.pk).anyone_waiting is True
        # At the other party its own waitlisted guest counts (the guest here); the
        # first party's waitlisted guest does not.
        other_guest = UserFactory()
        RSVP.objects.create(party=elsewhere, guest=other_guest, status=RSVPStatus.GOING)
        assert (
            REPLY_UNDER_LOCK.get(party_id=elsewhere.pk, guest_id=other_guest.pk).anyone_waiting
            is True
        )
        RSVP.objects.filter(party=elsewhere, guest=me).delete()
        assert (
            REPLY_UNDER_LOCK.get(party_id=elsewhere.pk, guest_id=other_guest.pk).anyone_waiting
            is False
        )


# --- PreparedUpdate: counters moved by SQL compiled once ----------------------


def test_a_prepared_update_changes_what_queryset_update_changes(cast):
    _me, _other, parties = cast
    party = parties["public"]
    before = DinnerParty.objects.values("seats_taken", "version").get(pk=party.pk)
    assert SEATS_AND_VERSION.run(pk=party.pk, seats=2, version=1) == 1
    after = DinnerParty.objects.values("seats_taken", "version").get(pk=party.pk)
    assert after == {"seats_taken": before["seats_taken"] + 2, "version": before["version"] + 1}
    assert SEATS_AND_VERSION.run(pk=party.pk, seats=-2, version=0) == 1
    assert DinnerParty.objects.get(pk=party.pk).seats_taken == before["seats_taken"]
    assert SEATS_AND_VERSION.run(pk=987_654, seats=1, version=1) == 0  # no such party


def test_a_prepared_update_checks_its_inputs(compiled):
    with pytest.raises(ImproperlyConfigured, match="int inputs"):
        PreparedUpdate(lambda title: (DinnerParty.objects.all(), {"title": title}), title=str)
    ignores = PreparedUpdate(lambda pk: (DinnerParty.objects.all(), {"seats": 5}), pk=int)
    with pytest.raises(ImproperlyConfigured, match="ignores"):
        ignores.run(pk=1)
    with pytest.raises(TypeError, match="takes"):
        SEATS_AND_VERSION.run(pk=1)


def test_prepared_objects_list_what_the_orm_lists_in_its_order(cast):
    me, other, parties = cast
    party = parties["public"]
    party.seats, party.seats_taken = 1, 1
    party.save()
    for name in ("first", "second", "third"):
        services.rsvp_submit(party=party, guest=UserFactory(username=name), status="going")
    waiting = WAITLIST.all(party_id=party.pk)
    expected = RSVP.objects.filter(party=party, status="waitlisted").order_by("waitlisted_at", "pk")
    assert [field_values(r) for r in waiting] == [field_values(r) for r in expected]
    assert [r.guest.username for r in waiting] == ["first", "second", "third"]
    assert WAITLIST.all(party_id=987_654) == []


# --- PreparedDelete -----------------------------------------------------------


def test_a_prepared_delete_deletes_what_queryset_delete_deletes(cast):
    me, _other, parties = cast
    party = parties["public"]
    services.potluck_set_slots(party=party, wanted={"main": 2})
    first, second = party.slots.all()
    mine = Dish.objects.create(party=party, slot=first, course="main", added_by=me, name="Lasagne")
    theirs = Dish.objects.create(
        party=party, slot=second, course="main", added_by=UserFactory(), name="Stew"
    )
    assert RELEASED_CLAIMS.run(party_id=party.pk, guest_id=me.pk) == 1
    assert list(Dish.objects.filter(party=party)) == [theirs]
    assert not Dish.objects.filter(pk=mine.pk).exists()
    assert RELEASED_CLAIMS.run(party_id=party.pk, guest_id=me.pk) == 0


def test_a_prepared_delete_refuses_what_cascades_or_is_not_an_int(compiled):
    cascades = PreparedDelete(lambda pk: DinnerParty.objects.filter(pk=pk), pk=int)
    with pytest.raises(ImproperlyConfigured, match="cascade"):
        cascades.run(pk=1)
    with pytest.raises(ImproperlyConfigured, match="int inputs"):
        PreparedDelete(lambda name: Dish.objects.filter(name=name), name=str)
    with pytest.raises(TypeError, match="takes"):
        RELEASED_CLAIMS.run(party_id=1)


# --- PreparedSave -------------------------------------------------------------


def test_a_prepared_save_writes_what_save_writes(cast):
    me, _other, parties = cast
    reply = parties["public"].rsvps.get(guest=me)
    stamp = reply.updated_at
    reply.status, reply.note = RSVPStatus.WAITLISTED, "Ünïcode <b>note</b>"
    reply.plus_ones, reply.plus_one_diets = 2, ["vegan", "halal"]
    reply.waitlisted_at = timezone.now()
    SAVE_REPLY.save(reply)
    loaded = RSVP.objects.get(pk=reply.pk)
    assert field_values(loaded) == field_values(reply)
    assert loaded.updated_at > stamp  # auto_now, as save() sets it
    reply.waitlisted_at = None
    SAVE_REPLY.save(reply)
    assert RSVP.objects.get(pk=reply.pk).waitlisted_at is None


def test_a_prepared_save_inserts_a_new_or_vanished_row_as_save_does(cast):
    me, other, parties = cast
    new = RSVP(party=parties["past-public"], guest=other, status=RSVPStatus.MAYBE)
    SAVE_REPLY.save(new)
    assert RSVP.objects.filter(pk=new.pk, status=RSVPStatus.MAYBE).exists()
    RSVP.objects.filter(pk=new.pk).delete()
    SAVE_REPLY.save(new)
    assert RSVP.objects.filter(pk=new.pk).exists()


def test_a_prepared_save_keeps_save_signals(cast):
    """User has a post_save receiver (a renamed guest moves their parties' versions on)."""
    me, _other, parties = cast
    party = parties["public"]
    version = DinnerParty.objects.get(pk=party.pk).version
    me.first_name = "Renamed"
    PreparedSave(type(me)).save(me)
    assert type(me).objects.get(pk=me.pk).first_name == "Renamed"
    assert DinnerParty.objects.get(pk=party.pk).version == version + 1


# --- PreparedInsert -----------------------------------------------------------


LATER = timezone.now() + timedelta(hours=2)


def queued_row(**changes):
    from django_tasks_db.models import DBTaskResult

    values = {
        "args_kwargs": {"args": [{"title": "Ünïcode <b>supper</b>", "seats": 12}], "kwargs": {}},
        "priority": 3,
        "task_path": "parties.notifications.send_rsvp_emails",
        "queue_name": "default",
        "backend_name": "default",
        "run_after": LATER,
    }
    return DBTaskResult(**{**values, **changes})


def test_a_prepared_insert_writes_what_save_writes():
    from django_tasks_db.models import DBTaskResult

    compiled_row, saved_row = queued_row(), queued_row()
    QUEUED_TASK.insert(compiled_row)
    saved_row.save(force_insert=True)
    assert compiled_row._state.adding is False
    loaded, expected = (DBTaskResult.objects.get(pk=row.pk) for row in (compiled_row, saved_row))
    ignored = {"id", "enqueued_at"}
    assert {k: v for k, v in field_values(loaded).items() if k not in ignored} == {
        k: v for k, v in field_values(expected).items() if k not in ignored
    }
    assert loaded.enqueued_at is not None  # auto_now_add, as save() sets it
    assert loaded.args_kwargs["args"][0]["title"] == "Ünïcode <b>supper</b>"


def test_a_prepared_insert_is_one_statement_and_rolls_back_with_its_transaction():
    from django_tasks_db.models import DBTaskResult

    row = queued_row()
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            QUEUED_TASK.insert(row)
        assert len(queries) == 1
        transaction.set_rollback(True)
    assert not DBTaskResult.objects.filter(pk=row.pk).exists()


def test_a_prepared_insert_sends_the_save_signals_as_save_does():
    """django-tasks-db's own pre_save receiver gives a task without a time the
    latest date; a post_save receiver hears of the new row."""
    from django.db.models.signals import post_save
    from django_tasks_db.models import DBTaskResult

    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.pk, created))

    post_save.connect(receiver, sender=DBTaskResult)
    try:
        row = queued_row(run_after=None)
        QUEUED_TASK.insert(row)
    finally:
        post_save.disconnect(receiver, sender=DBTaskResult)
    assert DBTaskResult.objects.get(pk=row.pk).run_after.year == 9999
    assert heard == [(row.pk, True)]


def test_a_prepared_insert_leaves_a_row_without_a_key_to_save(cast):
    me, _other, _parties = cast
    newcomer = type(me)(username="newcomer", email="newcomer@example.com")
    PreparedInsert(type(me)).insert(newcomer)
    assert type(me).objects.filter(pk=newcomer.pk, username="newcomer").exists()
