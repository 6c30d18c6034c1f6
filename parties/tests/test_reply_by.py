"""The reply-by date (issue 20, item 4): typed in the party's zone, before the
start; after it new replies close (stepping down still works), the page says so,
and the hosts get the final numbers by email, once."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import UserFactory
from parties import deadline, services
from parties.models import DinnerParty, Dish, RSVPStatus
from parties.tests.factories import DinnerPartyFactory, RSVPFactory
from parties.tests.helpers import (
    admin_form_data,
    assert_seats_consistent,
    client_for,
    going,
    page_text,
)
from parties.tests.test_forms import party_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def now(time_machine):
    moment = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    time_machine.move_to(moment, tick=False)
    return moment


def reply_by_errors(response) -> list[str]:
    assert response.status_code == 200
    return response.context["form"].errors.get("reply_by", [])


# --- the form ------------------------------------------------------------------------


def test_a_reply_by_date_is_typed_in_the_partys_zone(now, host_client):
    response = host_client.post(
        reverse("parties:create"),
        party_data(starts_at="2027-01-10T19:00", reply_by="2027-01-08T18:00"),
    )

    assert response.status_code == 302
    party = DinnerParty.objects.get()
    assert party.reply_by == datetime(2027, 1, 8, 17, 0, tzinfo=UTC)  # 18:00 in Paris
    assert party.reply_by_text == "Fri 8 Jan, 18:00 CET"


def test_an_empty_reply_by_date_means_replies_stay_open_until_the_start(now, host_client):
    response = host_client.post(reverse("parties:create"), party_data(reply_by=""))

    assert response.status_code == 302
    assert DinnerParty.objects.get().reply_by is None


@pytest.mark.parametrize(
    "typed",
    [
        "2027-01-08T18:00" + "0" * 1000,  # too long
        "next friday",  # the wrong type
        "<script>alert(1)</script>",  # hostile
        "2027-13-45T25:61",
        "'; DROP TABLE parties_dinnerparty; --",
    ],
)
def test_a_reply_by_date_that_is_not_a_date_is_a_clear_error(now, host_client, typed):
    response = host_client.post(reverse("parties:create"), party_data(reply_by=typed))

    assert reply_by_errors(response) == ["Enter a valid date/time."]
    assert not DinnerParty.objects.exists()
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_a_reply_by_date_after_the_start_is_refused(now, host_client):
    response = host_client.post(
        reverse("parties:create"),
        party_data(starts_at="2027-01-10T19:00", reply_by="2027-01-10T19:00"),
    )

    assert reply_by_errors(response) == ["The reply-by date must come before the start."]
    assert not DinnerParty.objects.exists()


def test_a_reply_by_date_in_the_past_is_refused(now, host_client):
    response = host_client.post(
        reverse("parties:create"),
        party_data(starts_at="2027-01-10T19:00", reply_by="2026-12-05T12:00"),
    )

    assert reply_by_errors(response) == ["Pick a reply-by date in the future."]


def test_a_reply_by_time_the_clocks_skip_is_refused(now, host_client):
    response = host_client.post(
        reverse("parties:create"),
        party_data(starts_at="2027-03-28T20:00", reply_by="2027-03-28T02:30"),
    )

    assert reply_by_errors(response) == [
        "02:30 doesn't exist on that day in Europe/Paris: the clocks go forward. Pick another time."
    ]


def test_a_past_reply_by_date_left_as_it_was_does_not_block_other_edits(host, host_client):
    now = timezone.now().replace(second=0, microsecond=0)
    party = DinnerPartyFactory(
        host=host, starts_at=now + timedelta(days=7), reply_by=now - timedelta(days=1)
    )
    form = host_client.get(reverse("parties:update", args=[party.pk])).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        starts_at=form.initial["starts_at"].strftime("%Y-%m-%dT%H:%M"),
        reply_by=form.initial["reply_by"].strftime("%Y-%m-%dT%H:%M"),
        title="Renamed",
    )

    response = host_client.post(reverse("parties:update", args=[party.pk]), data)

    assert response.status_code == 302
    party.refresh_from_db()
    assert (party.title, party.reply_by) == ("Renamed", now - timedelta(days=1))


# --- replies after the deadline ------------------------------------------------------


@pytest.fixture
def closed_party(host):
    """Replies closed an hour ago; the party is in a week. Four seats."""
    now = timezone.now()
    return DinnerPartyFactory(
        host=host,
        title="Paella night",
        seats=4,
        starts_at=now + timedelta(days=7),
        reply_by=now + timedelta(days=1),
    )


def close(party: DinnerParty) -> None:
    DinnerParty.objects.filter(pk=party.pk).update(reply_by=timezone.now() - timedelta(hours=1))
    party.refresh_from_db()


def test_after_the_reply_by_date_a_new_reply_is_refused(closed_party, guest):
    close(closed_party)

    with pytest.raises(services.RsvpError, match="Replies closed on"):
        services.rsvp_submit(party=closed_party, guest=guest, status=RSVPStatus.GOING)

    assert not closed_party.rsvps.exists()


def test_after_the_reply_by_date_a_guest_going_can_step_down_and_the_waitlist_moves_up(
    closed_party, guest
):
    going(closed_party, guest, plus_ones=3)
    waiting = UserFactory()
    services.rsvp_submit(party=closed_party, guest=waiting, status=RSVPStatus.GOING)
    close(closed_party)

    outcome = services.rsvp_submit(party=closed_party, guest=guest, status=RSVPStatus.DECLINED)

    assert outcome.status == RSVPStatus.DECLINED
    assert [rsvp.guest for rsvp in outcome.promoted] == [waiting]
    assert_seats_consistent()


def test_after_the_reply_by_date_plus_ones_can_go_down_but_not_up(closed_party, guest):
    going(closed_party, guest, plus_ones=2)
    close(closed_party)

    outcome = services.rsvp_submit(
        party=closed_party, guest=guest, status=RSVPStatus.GOING, plus_ones=1
    )
    assert outcome.rsvp.plus_ones == 1

    with pytest.raises(services.RsvpError, match="not more"):
        services.rsvp_submit(party=closed_party, guest=guest, status=RSVPStatus.GOING, plus_ones=2)
    closed_party.refresh_from_db()
    assert closed_party.seats_taken == 2
    assert_seats_consistent()


def test_after_the_reply_by_date_a_maybe_cannot_become_going(closed_party, guest):
    RSVPFactory(party=closed_party, guest=guest, status=RSVPStatus.MAYBE)
    close(closed_party)

    with pytest.raises(services.RsvpError, match="step down"):
        services.rsvp_submit(party=closed_party, guest=guest, status=RSVPStatus.GOING)

    outcome = services.rsvp_submit(party=closed_party, guest=guest, status=RSVPStatus.DECLINED)
    assert outcome.status == RSVPStatus.DECLINED


def test_after_the_reply_by_date_a_guest_who_declined_cannot_come_back(closed_party, guest):
    RSVPFactory(party=closed_party, guest=guest, status=RSVPStatus.DECLINED)
    close(closed_party)

    with pytest.raises(services.RsvpError, match="Replies closed on"):
        services.rsvp_submit(party=closed_party, guest=guest, status=RSVPStatus.MAYBE)


def test_the_page_says_reply_by_before_the_deadline(closed_party, guest_client):
    response = guest_client.get(closed_party.get_absolute_url())

    assert f"Reply by {closed_party.reply_by_text}." in page_text(response)
    assert "Send my reply" in page_text(response)


def test_the_page_says_replies_closed_after_it_and_offers_no_form(closed_party, guest_client):
    close(closed_party)

    response = guest_client.get(closed_party.get_absolute_url())

    text = page_text(response)
    assert f"Replies closed on {closed_party.reply_by_text}." in text
    assert "Send my reply" not in text


def test_a_guest_going_still_gets_the_form_to_step_down_after_it(closed_party, guest):
    going(closed_party, guest)
    close(closed_party)

    response = client_for(guest).get(closed_party.get_absolute_url())

    text = page_text(response)
    assert "You can still step down or bring fewer plus-ones." in text
    assert "Send my reply" in text


def test_a_reply_posted_after_the_deadline_is_a_clear_message_not_an_error(
    closed_party, guest_client
):
    close(closed_party)

    response = guest_client.post(
        reverse("parties:rsvp", args=[closed_party.pk]),
        {"status": "going", "plus_ones": "0", "note": ""},
        follow=True,
    )

    assert response.status_code == 200
    assert f"Replies closed on {closed_party.reply_by_text}." in page_text(response)
    assert not closed_party.rsvps.exists()


# --- the final numbers ---------------------------------------------------------------


@pytest.fixture
def dinner(closed_party, host):
    """Going: a vegan with two plus-ones, one allergic to fish; a maybe; a waitlisted."""
    cohost = UserFactory(first_name="Cleo")
    closed_party.cohosts.add(cohost)
    vegan = UserFactory(first_name="Vera", last_name="Ng", diets=["vegan"])
    services.rsvp_submit(
        party=closed_party,
        guest=vegan,
        status=RSVPStatus.GOING,
        plus_ones=2,
        plus_one_allergies=["fish"],
    )
    RSVPFactory(
        party=closed_party, guest=UserFactory(first_name="Max", last_name="Ode"), status="maybe"
    )
    services.rsvp_submit(
        party=closed_party,
        guest=UserFactory(first_name="Wes", last_name="Tan"),
        status="going",
        plus_ones=1,
    )
    Dish.objects.create(
        party=closed_party, course="main", name="Fish stew", allergens=["fish"], added_by=host
    )
    return closed_party, cohost


def test_the_command_sends_the_final_numbers_to_the_hosts_once(dinner, host, mailoutbox):
    party, cohost = dinner
    close(party)

    out = StringIO()
    call_command("send_final_numbers", stdout=out)
    call_command("send_final_numbers", stdout=out)

    assert out.getvalue().splitlines() == [
        "Sent final numbers for 1 party.",
        "Sent final numbers for 0 parties.",
    ]
    assert sorted(message.to[0] for message in mailoutbox) == sorted([host.email, cohost.email])
    party.refresh_from_db()
    assert party.final_numbers_sent_at is not None


def test_the_final_numbers_give_the_head_count_diets_the_menu_and_who_never_answered(
    dinner, mailoutbox
):
    party, _ = dinner
    close(party)

    deadline.send_due()

    body = mailoutbox[0].body
    assert mailoutbox[0].subject == "Final numbers for “Paella night”"
    assert "Head count: 4 (hosts included): 1 guest going with 2 plus-ones." in body
    assert "- Vera Ng: Vegan. Vera Ng's plus-ones: allergic to fish." in body
    assert (
        "- Fish stew (clashes: Vera Ng: diets not stated; Vera Ng's plus-ones: contains fish)"
        in body
    )
    assert "- Vera Ng's plus-ones: Main NO" in body
    assert "- Maybe: Max Ode" in body
    assert "- Still on the waitlist: Wes Tan" in body
    html = mailoutbox[0].alternatives[0].content
    assert "Fish stew" in html
    assert "Max Ode" in html


def test_nothing_is_sent_before_the_deadline(dinner, mailoutbox):
    party, _ = dinner

    assert deadline.send_due() == 0
    assert mailoutbox == []


def test_a_failing_send_leaves_the_party_due_for_the_next_run(dinner, mailoutbox, monkeypatch):
    party, _ = dinner
    close(party)

    def broken(*args, **kwargs):
        raise RuntimeError("template error")

    monkeypatch.setattr(deadline.notifications, "send", broken)
    with pytest.raises(RuntimeError):
        deadline.send_due()

    party.refresh_from_db()
    assert party.final_numbers_sent_at is None
    monkeypatch.undo()
    assert deadline.send_due() == 1


def test_on_the_database_queue_the_final_numbers_are_scheduled_for_the_deadline(
    task_queue, now, host_client
):
    response = host_client.post(
        reverse("parties:create"),
        party_data(starts_at="2027-01-10T19:00", reply_by="2027-01-08T18:00"),
    )
    assert response.status_code == 302

    (scheduled,) = DBTaskResult.objects.filter(task_path="parties.deadline.send_final_numbers")
    party = DinnerParty.objects.get()
    assert scheduled.run_after == party.reply_by
    assert scheduled.args_kwargs["args"] == [party.pk]


def test_a_scheduled_task_for_a_deadline_since_moved_sends_nothing(
    task_queue, run_worker, closed_party, mailoutbox, time_machine
):
    first = closed_party.reply_by
    services.party_update(party=closed_party, changes={"reply_by": first + timedelta(days=2)})
    assert DBTaskResult.objects.filter(task_path="parties.deadline.send_final_numbers").count() == 1

    time_machine.move_to(first + timedelta(minutes=1), tick=False)
    assert deadline.send_final_numbers.call(closed_party.pk) is False  # the old date's task
    time_machine.move_to(first + timedelta(days=2, minutes=1), tick=False)
    run_worker()

    assert [message.subject for message in mailoutbox] == ["Final numbers for “Paella night”"]


def test_a_party_added_in_the_admin_with_a_reply_by_date_is_scheduled_too(task_queue, now):
    superuser = UserFactory(is_staff=True, is_superuser=True, timezone="Europe/Paris")
    client = client_for(superuser)
    data = admin_form_data(client.get(reverse("admin:parties_dinnerparty_add")))
    data |= {
        "host": superuser.pk,
        "title": "Admin-made dinner",
        "starts_at_0": "2027-01-10",
        "starts_at_1": "19:00:00",
        "reply_by_0": "2027-01-08",
        "reply_by_1": "18:00:00",
        "timezone": "Europe/Paris",
        "venue": "Here",
        "main_dish": "Soup",
        "seats": 6,
        "visibility": "public",
    }

    response = client.post(reverse("admin:parties_dinnerparty_add"), data)

    assert response.status_code == 302
    party = DinnerParty.objects.get(title="Admin-made dinner")
    assert party.reply_by == datetime(2027, 1, 8, 17, 0, tzinfo=UTC)
    (scheduled,) = DBTaskResult.objects.filter(task_path="parties.deadline.send_final_numbers")
    assert scheduled.run_after == party.reply_by


def test_the_admin_refuses_a_reply_by_date_after_the_start(now):
    superuser = UserFactory(is_staff=True, is_superuser=True, timezone="Europe/Paris")
    client = client_for(superuser)
    data = admin_form_data(client.get(reverse("admin:parties_dinnerparty_add")))
    data |= {
        "host": superuser.pk,
        "title": "Admin-made dinner",
        "starts_at_0": "2027-01-10",
        "starts_at_1": "19:00:00",
        "reply_by_0": "2027-01-11",
        "reply_by_1": "18:00:00",
        "timezone": "Europe/Paris",
        "venue": "Here",
        "main_dish": "Soup",
        "seats": 6,
        "visibility": "public",
    }

    response = client.post(reverse("admin:parties_dinnerparty_add"), data)

    assert response.status_code == 200
    assert "The reply-by date comes before the start." in page_text(response)
    assert not DinnerParty.objects.exists()


def test_after_the_deadline_nobody_is_asked_to_be_the_first_to_come(closed_party, guest_client):
    page = page_text(guest_client.get(closed_party.get_absolute_url()))
    assert "be the first to say you're coming" in page

    close(closed_party)

    page = page_text(guest_client.get(closed_party.get_absolute_url()))
    assert "No replies yet." in page
    assert "be the first" not in page
