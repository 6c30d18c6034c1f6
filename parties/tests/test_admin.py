import csv
import io
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from parties import services
from parties.models import RSVP, DinnerParty
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import (
    admin_form_data,
    assert_seats_consistent,
    client_for,
    flash_messages,
    going,
)

pytestmark = pytest.mark.django_db

HOST_PERMISSIONS = {
    f"{action}_{model}"
    for model in ("dinnerparty", "rsvp")
    for action in ("add", "change", "delete", "view")
}


def changelist(model: str = "dinnerparty") -> str:
    return reverse(f"admin:parties_{model}_changelist")


def change(obj) -> str:
    return reverse(f"admin:parties_{obj._meta.model_name}_change", args=[obj.pk])


def delete(obj) -> str:
    return reverse(f"admin:parties_{obj._meta.model_name}_delete", args=[obj.pk])


@pytest.fixture
def staff_host(db):
    user = UserFactory(username="hostess", is_staff=True)
    user.groups.add(Group.objects.get(name="Hosts"))
    return user


@pytest.fixture
def staff_client(staff_host):
    return client_for(staff_host)


@pytest.fixture
def superuser_client(db):
    return client_for(UserFactory(username="root", is_staff=True, is_superuser=True))


@pytest.fixture
def own_party(staff_host):
    return DinnerPartyFactory(host=staff_host, title="My table", seats=3)


@pytest.fixture
def other_party(db):
    return DinnerPartyFactory(title="Not yours", seats=5)


def test_the_hosts_group_exists_with_the_parties_permissions():
    group = Group.objects.get(name="Hosts")
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert codenames == HOST_PERMISSIONS
    assert set(group.permissions.values_list("content_type__app_label", flat=True)) == {"parties"}


def test_a_staff_user_outside_the_hosts_group_has_no_parties_admin(db, other_party):
    client = client_for(UserFactory(is_staff=True))
    assert client.get(changelist()).status_code == 403


def test_a_host_sees_only_their_own_parties(staff_client, own_party, other_party):
    response = staff_client.get(changelist())

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [own_party]
    assert "Not yours" not in response.content.decode()


def test_a_host_sees_only_replies_to_their_own_parties(staff_client, own_party, other_party):
    mine = going(own_party, UserFactory())
    going(other_party, UserFactory())

    response = staff_client.get(changelist("rsvp"))

    assert list(response.context["cl"].result_list) == [mine]
    assert staff_client.get(change(RSVP.objects.exclude(pk=mine.pk).get())).status_code == 302


def test_a_host_cannot_open_or_change_another_hosts_party(staff_client, other_party):
    before = DinnerParty.objects.values().get(pk=other_party.pk)

    response = staff_client.get(change(other_party))
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert response["Location"] == reverse("admin:index")
        assert "doesn’t exist" in " ".join(flash_messages(response))

    posted = staff_client.post(change(other_party), {"title": "Hijacked", "seats": 500, "host": 1})
    assert posted.status_code in (302, 404)
    assert DinnerParty.objects.values().get(pk=other_party.pk) == before


def test_a_host_cannot_delete_another_hosts_party(staff_client, other_party):
    assert staff_client.get(delete(other_party)).status_code in (302, 404)
    assert staff_client.post(delete(other_party), {"post": "yes"}).status_code in (302, 404)
    bulk = staff_client.post(
        changelist(),
        {"action": "delete_selected", "_selected_action": [other_party.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert DinnerParty.objects.filter(pk=other_party.pk).exists()


def test_a_host_deletes_their_own_party(staff_client, own_party):
    going(own_party, UserFactory())
    response = staff_client.post(delete(own_party), {"post": "yes"})
    assert response.status_code == 302
    assert not DinnerParty.objects.filter(pk=own_party.pk).exists()
    assert not RSVP.objects.exists()


def test_host_is_read_only_for_a_host(staff_client, own_party):
    response = staff_client.get(change(own_party))

    assert response.status_code == 200
    assert "host" not in response.context["adminform"].form.fields
    assert "host" in response.context["adminform"].readonly_fields


def test_a_host_edits_their_own_party_but_cannot_give_it_away(staff_client, staff_host, own_party):
    someone = UserFactory()
    data = admin_form_data(staff_client.get(change(own_party)))

    response = staff_client.post(
        change(own_party), data | {"title": "My bigger table", "host": someone.pk}
    )

    assert response.status_code == 302
    own_party.refresh_from_db()
    assert (own_party.title, own_party.host) == ("My bigger table", staff_host)


def test_a_party_added_by_a_host_is_theirs(staff_client, staff_host):
    someone = UserFactory()
    data = admin_form_data(staff_client.get(reverse("admin:parties_dinnerparty_add")))
    data |= {
        "host": someone.pk,  # not a field for hosts: ignored
        "title": "Admin-made dinner",
        "starts_at_0": "2030-12-12",
        "starts_at_1": "19:00:00",
        "timezone": "Europe/Paris",
        "venue": "Here",
        "main_dish": "Soup",
        "seats": 6,
        "visibility": "public",
    }

    response = staff_client.post(reverse("admin:parties_dinnerparty_add"), data)

    assert response.status_code == 302
    party = DinnerParty.objects.get(title="Admin-made dinner")
    assert party.host == staff_host
    assert party.seats_taken == 0


def test_a_superuser_sees_every_party_and_may_set_the_host(
    superuser_client, own_party, other_party
):
    response = superuser_client.get(changelist())
    assert set(response.context["cl"].result_list) == {own_party, other_party}

    form = superuser_client.get(change(other_party)).context["adminform"].form
    assert "host" in form.fields


def test_the_changelist_shows_seats_taken_and_the_waitlist(superuser_client, own_party):
    going(own_party, UserFactory(), plus_ones=1)
    going(own_party, UserFactory())
    for _ in range(2):
        services.rsvp_submit(party=own_party, guest=UserFactory(), status="going")

    response = superuser_client.get(changelist())

    markup = response.content.decode()
    assert {"seats_taken", "waitlisted"} <= set(response.context["cl"].list_display)
    assert "column-seats_taken" in markup
    assert "column-waitlisted" in markup
    assert '<td class="field-seats_taken">3</td>' in markup
    assert '<td class="field-waitlisted">2</td>' in markup


def test_the_csv_export_lists_the_selected_parties_guests(superuser_client, own_party):
    skipped = DinnerPartyFactory(title="Not selected")
    ben = UserFactory(username="ben", email="ben@example.com")
    cleo = UserFactory(username="cleo", email="cleo@example.com")
    going(own_party, ben, plus_ones=1)
    services.rsvp_submit(party=own_party, guest=cleo, status="maybe", note="=SUM(A1:A9)")
    going(skipped, UserFactory(username="zed"))

    response = superuser_client.post(
        changelist(), {"action": "export_guest_lists", "_selected_action": [own_party.pk]}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:7] == ["party", "starts_at", "guest", "email", "status", "plus_ones", "note"]
    body = sorted(rows[1:], key=lambda row: row[2])
    assert [(r[0], r[2], r[3], r[4], r[5]) for r in body] == [
        ("My table", "ben", "ben@example.com", "going", "1"),
        ("My table", "cleo", "cleo@example.com", "maybe", "0"),
    ]
    assert body[1][6] == "'=SUM(A1:A9)"  # no spreadsheet formulas from user text
    assert body[0][1] == own_party.local_starts_at.isoformat()


def test_a_host_exports_only_their_own_guests(staff_client, own_party, other_party):
    going(own_party, UserFactory(username="mine"))
    going(other_party, UserFactory(username="theirs"))

    response = staff_client.post(
        changelist(),
        {"action": "export_guest_lists", "_selected_action": [own_party.pk, other_party.pk]},
    )

    text = response.content.decode()
    assert "mine" in text
    assert "theirs" not in text


def test_an_admin_rsvp_on_a_full_party_is_waitlisted(superuser_client):
    party = DinnerPartyFactory(seats=1)
    going(party, UserFactory())
    latecomer = UserFactory()

    response = superuser_client.post(
        reverse("admin:parties_rsvp_add"),
        {"party": party.pk, "guest": latecomer.pk, "status": "going", "plus_ones": 0, "note": ""},
    )

    assert response.status_code == 302
    assert RSVP.objects.get(guest=latecomer).status == "waitlisted"
    assert "waitlisted at #1" in " ".join(flash_messages(response))
    party.refresh_from_db()
    assert party.seats_taken == 1
    assert_seats_consistent()


def test_an_admin_rsvp_change_to_going_on_a_full_party_is_waitlisted(superuser_client):
    party = DinnerPartyFactory(seats=1)
    going(party, UserFactory())
    maybe = services.rsvp_submit(party=party, guest=UserFactory(), status="maybe").rsvp
    data = admin_form_data(superuser_client.get(change(maybe)))

    response = superuser_client.post(change(maybe), data | {"status": "going"})

    assert response.status_code == 302
    maybe.refresh_from_db()
    assert maybe.status == "waitlisted"
    assert_seats_consistent()


def test_an_admin_inline_rsvp_on_a_full_party_is_waitlisted(superuser_client):
    party = DinnerPartyFactory(seats=2)
    going(party, UserFactory(), plus_ones=1)
    maybe = services.rsvp_submit(party=party, guest=UserFactory(), status="maybe").rsvp
    data = admin_form_data(superuser_client.get(change(party)))
    index = next(i for i in range(2) if data[f"rsvps-{i}-id"] == maybe.pk)

    response = superuser_client.post(change(party), data | {f"rsvps-{index}-status": "going"})

    assert response.status_code == 302
    maybe.refresh_from_db()
    assert maybe.status == "waitlisted"
    party.refresh_from_db()
    assert party.seats_taken == 2
    assert_seats_consistent()


@pytest.mark.parametrize(
    ("started", "who", "reason"),
    [
        (False, "host", "You're the host — your seat at the table is already saved."),
        (True, "guest", "This party has already started, so replies are closed."),
    ],
)
def test_an_admin_rsvp_the_rules_refuse_is_a_form_error(superuser_client, started, who, reason):
    starts_at = timezone.now() + timedelta(days=-1 if started else 1)
    party = DinnerPartyFactory(starts_at=starts_at)
    guest = party.host if who == "host" else UserFactory()

    response = superuser_client.post(
        reverse("admin:parties_rsvp_add"),
        {"party": party.pk, "guest": guest.pk, "status": "going", "plus_ones": 0},
    )

    # Not "added successfully" with a link to an RSVP that was never saved.
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [reason]
    assert not RSVP.objects.exists()
    assert not LogEntry.objects.exists()


def test_a_host_cannot_add_an_rsvp_to_another_hosts_party(staff_client, other_party):
    response = staff_client.post(
        reverse("admin:parties_rsvp_add"),
        {"party": other_party.pk, "guest": UserFactory().pk, "status": "going", "plus_ones": 0},
    )
    assert response.status_code == 200
    assert "party" in response.context["adminform"].form.errors
    assert not RSVP.objects.exists()


def test_admin_seats_below_those_taken_is_a_form_error(superuser_client, own_party):
    going(own_party, UserFactory(), plus_ones=2)
    data = admin_form_data(superuser_client.get(change(own_party)))

    response = superuser_client.post(change(own_party), data | {"seats": 2})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["seats"] == [
        "3 seats are already taken, so the table needs at least 3."
    ]
    own_party.refresh_from_db()
    assert own_party.seats == 3


def test_admin_adding_seats_promotes_the_waitlist(superuser_client, own_party):
    for _ in range(4):
        going(own_party, UserFactory())
    waiting = RSVP.objects.get(status="waitlisted")
    data = admin_form_data(superuser_client.get(change(own_party)))

    response = superuser_client.post(change(own_party), data | {"seats": 4})

    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == "going"
    assert_seats_consistent()


# --- Who a host may reply for ---------------------------------------------------------


def rsvp_add(client, party, guest):
    return client.post(
        reverse("admin:parties_rsvp_add"),
        {"party": party.pk, "guest": guest.pk, "status": "going", "plus_ones": 0, "note": ""},
    )


def test_a_host_cannot_attach_a_stranger_to_their_party(
    staff_client, own_party, committing, mailoutbox
):
    stranger = UserFactory(username="stranger", email="stranger@example.com")

    with committing():
        response = rsvp_add(staff_client, own_party, stranger)

    assert response.status_code == 200
    assert "guest" in response.context["adminform"].form.errors
    assert not RSVP.objects.exists()
    assert mailoutbox == []
    export = staff_client.post(
        changelist(), {"action": "export_guest_lists", "_selected_action": [own_party.pk]}
    )
    assert "stranger@example.com" not in export.content.decode()


def test_a_host_cannot_attach_someone_who_replied_only_to_another_hosts_party(
    staff_client, own_party, other_party
):
    theirs = UserFactory()
    going(other_party, theirs)

    response = rsvp_add(staff_client, own_party, theirs)

    assert "guest" in response.context["adminform"].form.errors
    assert not RSVP.objects.filter(party=own_party).exists()


def test_a_host_may_reply_for_someone_who_already_replied_to_one_of_their_parties(
    staff_client, staff_host, own_party
):
    ben = UserFactory(username="ben")
    going(own_party, ben)
    next_dinner = DinnerPartyFactory(host=staff_host, title="Next dinner")

    response = rsvp_add(staff_client, next_dinner, ben)

    assert response.status_code == 302
    assert RSVP.objects.get(party=next_dinner).guest == ben
    assert_seats_consistent()


def test_the_add_page_offers_a_host_only_their_own_guests_without_a_user_search(
    staff_client, own_party, other_party
):
    ben = UserFactory(username="ben")
    going(own_party, ben)
    going(other_party, UserFactory(username="theirs"))
    UserFactory(username="stranger")

    form = staff_client.get(reverse("admin:parties_rsvp_add")).context["adminform"].form

    assert list(form.fields["guest"].queryset) == [ben]
    # The user search (autocomplete) is closed to hosts: a plain list instead.
    assert "autocomplete" not in form.fields["guest"].widget.__class__.__name__.lower()


def test_a_superuser_may_pick_any_member_as_the_guest(superuser_client, own_party):
    UserFactory(username="stranger")

    form = superuser_client.get(reverse("admin:parties_rsvp_add")).context["adminform"].form

    assert set(form.fields["guest"].queryset) == set(User.objects.all())


# --- Dates at the ends of the calendar -----------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "time", "error"),
    [
        ("America/Los_Angeles", "9999-12-31", "23:59:00", "Pick a date within the next 5 years."),
        ("UTC", "9999-12-31", "23:59:00", "Pick a date within the next 5 years."),
        ("Asia/Tokyo", "0001-01-01", "00:30:00", "Pick a time in the future."),
    ],
)
def test_an_admin_party_at_the_ends_of_the_calendar_is_a_form_error(
    staff_host, staff_client, zone, day, time, error
):
    staff_host.timezone = zone  # the admin reads times in the user's own zone
    staff_host.save()
    data = admin_form_data(staff_client.get(reverse("admin:parties_dinnerparty_add")))
    data |= {
        "title": "The last dinner",
        "starts_at_0": day,
        "starts_at_1": time,
        "timezone": zone,
        "venue": "Here",
        "main_dish": "Soup",
        "seats": 6,
        "visibility": "public",
    }

    response = staff_client.post(reverse("admin:parties_dinnerparty_add"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["starts_at"] == [error]
    assert not DinnerParty.objects.exists()


def test_an_admin_edit_that_leaves_a_past_partys_time_alone_is_saved(superuser_client):
    party = DinnerPartyFactory(starts_at=timezone.now() - timedelta(days=3), title="Last week")
    data = admin_form_data(superuser_client.get(change(party)))

    response = superuser_client.post(change(party), data | {"title": "Last week's dinner"})

    assert response.status_code == 302
    party.refresh_from_db()
    assert party.title == "Last week's dinner"


@pytest.mark.parametrize("junk", ["1.5", "abc", "\x00"])
def test_a_party_posted_with_a_host_that_is_no_id_is_refused_not_a_500(superuser_client, junk):
    response = superuser_client.post(
        reverse("admin:parties_dinnerparty_add"),
        {
            "host": junk,
            "title": "Soup",
            "seats": "4",
            "rsvps-TOTAL_FORMS": "0",
            "rsvps-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["host"]
    assert not DinnerParty.objects.filter(title="Soup").exists()


def test_a_host_changes_a_reply_note_in_their_party_page(staff_client, own_party):
    rsvp = going(own_party, UserFactory())
    data = admin_form_data(staff_client.get(change(own_party)))

    response = staff_client.post(change(own_party), data | {"rsvps-0-note": "Vegan, thanks"})

    assert response.status_code == 302
    rsvp.refresh_from_db()
    assert rsvp.note == "Vegan, thanks"
    assert_seats_consistent()


def waitlisted_reply(party: DinnerParty) -> RSVP:
    """Fill `party` and put one more guest on its waitlist."""
    going(party, UserFactory(), plus_ones=party.seats - 1)
    outcome = services.rsvp_submit(party=party, guest=UserFactory(), status="going")
    assert outcome.status == "waitlisted"
    return outcome.rsvp


def inline_index(data: dict, rsvp: RSVP) -> int:
    return next(i for i in range(data["rsvps-TOTAL_FORMS"]) if data[f"rsvps-{i}-id"] == rsvp.pk)


def test_a_host_moving_a_waitlisted_guest_to_going_on_a_full_table_hears_it_is_full(
    staff_client, own_party
):
    # Issue 21, item 1: the guest is read-only for a host, and this was a KeyError (500).
    waiting = waitlisted_reply(own_party)
    data = admin_form_data(staff_client.get(change(own_party)))
    index = inline_index(data, waiting)

    response = staff_client.post(
        change(own_party),
        data | {f"rsvps-{index}-status": "going", "_continue": "Save and continue editing"},
        follow=True,
    )

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == change(own_party)
    assert f"{waiting.guest} is waitlisted (#1): the table is full." in [
        str(message) for message in response.context["messages"]
    ]
    waiting.refresh_from_db()
    assert waiting.status == "waitlisted"
    assert_seats_consistent()


def test_a_host_moving_a_waitlisted_guest_to_going_when_a_seat_is_free_seats_them(
    staff_client, own_party
):
    waiting = waitlisted_reply(own_party)
    own_party.refresh_from_db()
    data = admin_form_data(staff_client.get(change(own_party)))
    index = inline_index(data, waiting)
    # A seat comes free the moment the host saves: the page still shows the waitlist.
    services.party_update(party=own_party, changes={"seats": own_party.seats + 1})

    response = staff_client.post(
        change(own_party),
        data | {f"rsvps-{index}-status": "going", "seats": own_party.seats, "_continue": "1"},
    )

    assert response.status_code == 302
    assert response["Location"] == change(own_party)
    waiting.refresh_from_db()
    assert waiting.status == "going"
    assert_seats_consistent()


def test_the_admin_offers_the_sites_three_choices_for_who_sees_the_address(
    superuser_client, own_party
):
    response = superuser_client.get(change(own_party))

    form = response.context["adminform"].form
    assert "hide_address" not in form.fields
    assert [value for value, _label in form.fields["address_shown_to"].choices] == [
        "auto",
        "table",
        "everyone",
    ]
    assert 'type="radio" name="address_shown_to"' in response.content.decode()


@pytest.mark.parametrize(
    ("visibility", "shown_to", "hidden"),
    [
        ("public", "table", True),
        ("private", "everyone", False),
        ("private", "auto", True),
        ("public", "auto", False),
    ],
)
def test_the_admins_address_choice_is_saved_as_the_site_saves_it(
    superuser_client, own_party, visibility, shown_to, hidden
):
    data = admin_form_data(superuser_client.get(change(own_party)))

    response = superuser_client.post(
        change(own_party), data | {"visibility": visibility, "address_shown_to": shown_to}
    )

    assert response.status_code == 302
    own_party.refresh_from_db()
    assert own_party.hide_address is hidden
    assert own_party.visibility == visibility


@pytest.mark.parametrize("junk", ["sometimes", "", "x" * 500, "<script>alert(1)</script>"])
def test_an_admin_address_choice_that_is_not_one_of_the_three_is_a_form_error_or_the_default(
    superuser_client, own_party, junk
):
    own_party.hide_address = False
    own_party.save()
    data = admin_form_data(superuser_client.get(change(own_party)))

    response = superuser_client.post(
        change(own_party), data | {"visibility": "private", "address_shown_to": junk}
    )

    own_party.refresh_from_db()
    if junk:
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["address_shown_to"]
        assert own_party.hide_address is False
        assert "<script>alert(1)</script>" not in response.content.decode()
    else:  # not chosen: as the site, private parties keep it for the table
        assert response.status_code == 302
        assert own_party.hide_address is True


def test_a_new_admin_party_keeps_the_address_for_the_table_when_asked(superuser_client):
    host = UserFactory()
    data = admin_form_data(superuser_client.get(reverse("admin:parties_dinnerparty_add")))
    starts = timezone.localtime(timezone.now() + timedelta(days=3)).replace(microsecond=0)
    data |= {
        "host": host.pk,
        "title": "Soup",
        "starts_at_0": starts.date().isoformat(),
        "starts_at_1": starts.time().isoformat(),
        "timezone": "UTC",
        "venue": "1 Main St",
        "main_dish": "Soup",
        "seats": 4,
        "visibility": "public",
        "address_shown_to": "table",
    }

    response = superuser_client.post(reverse("admin:parties_dinnerparty_add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert DinnerParty.objects.get(title="Soup").hide_address is True


def test_the_admins_party_zone_is_a_picker_of_canonical_zones(superuser_client, own_party):
    response = superuser_client.get(change(own_party))

    markup = response.content.decode()
    assert '<select name="timezone"' in markup
    assert '<optgroup label="Europe">' in markup
    assert 'value="Africa/Asmera"' not in markup
    data = admin_form_data(response)
    refused = superuser_client.post(change(own_party), data | {"timezone": "Mars/Olympus_Mons"})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["timezone"]


def test_the_admin_csv_export_adds_diets_allergies_and_dishes(superuser_client, own_party):
    ben = UserFactory(
        username="ben", diets=["vegetarian"], allergies=["peanuts", "milk"], dietary_notes="@SUM(1)"
    )
    going(own_party, ben, plus_ones=1)
    RSVP.objects.filter(guest=ben).update(plus_one_allergies=["fish"])
    services.potluck_set_slots(party=own_party, wanted={"dessert": 1})
    services.slot_claim(party=own_party, guest=ben, course="dessert", name="-Tiramisu")
    maybe = UserFactory(username="may", allergies=["eggs"])
    services.rsvp_submit(party=own_party, guest=maybe, status="maybe")

    response = superuser_client.post(
        changelist(), {"action": "export_guest_lists", "_selected_action": [own_party.pk]}
    )

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_guest = {row["guest"]: row for row in rows}
    assert by_guest["ben"]["diets"] == "Vegetarian"
    assert by_guest["ben"]["allergies"] == "Peanuts, Milk"
    assert by_guest["ben"]["plus_ones_allergies"] == "Fish"
    assert by_guest["ben"]["brings"] == "Dessert: -Tiramisu"
    assert by_guest["ben"]["dietary_notes"] == "'@SUM(1)"  # no formula
    # Diets are for the hosts of guests at the table or waiting for a seat only.
    assert by_guest["may"]["allergies"] == ""
