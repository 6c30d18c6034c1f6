"""A guest's reply does not wait for the mail server: with the database queue an
RSVP POST answers as fast whether SMTP takes 0 s or 5 s, and the worker then
delivers the email. (Sending in the request, the immediate backend's way, is the
control: it waits the full 5 s.)"""

import time

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from parties.models import EmailDelivery
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import client_for
from parties.tests.smtp import SinkHandler, smtp_mailers, smtp_sink

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SLOW_SMTP = 5.0  # seconds the slow server takes to answer each message


def timed_reply() -> tuple[float, str]:
    """A guest's "going" POST to a party whose host is not emailed: the seconds
    it took to answer, and the guest's address."""
    party = DinnerPartyFactory(seats=4, host=UserFactory(unconfirmed=True))
    guest = UserFactory()
    client = client_for(guest)
    url = reverse("parties:rsvp", args=[party.pk])
    started = time.perf_counter()
    response = client.post(url, {"status": "going", "plus_ones": 0})
    elapsed = time.perf_counter() - started
    assert response.status_code == 302
    return elapsed, guest.email


def test_a_reply_answers_as_fast_with_a_slow_mail_server_as_with_a_fast_one(
    task_queue, run_worker, settings
):
    latencies = {}
    for delay in (0.0, SLOW_SMTP):
        handler = SinkHandler(delay=delay)
        with smtp_sink(handler) as port:
            settings.MAILERS = smtp_mailers(port)
            latencies[delay], address = timed_reply()
            assert handler.accepted == []  # nothing sent in the request
            run_worker()  # the worker sends it, taking the server's time
            assert handler.accepted == [[address]]

    assert latencies[0.0] < 1.0
    assert latencies[SLOW_SMTP] < 1.0, latencies


def test_sending_in_the_request_would_wait_for_the_slow_server(
    settings, django_capture_on_commit_callbacks
):
    """The control: the immediate backend sends before the reply is answered."""
    handler = SinkHandler(delay=SLOW_SMTP)
    with smtp_sink(handler) as port:
        settings.MAILERS = smtp_mailers(port)
        # Outside a test the reply's commit runs the callbacks inside the request;
        # here the test's transaction holds them until this block ends.
        started = time.perf_counter()
        with django_capture_on_commit_callbacks(execute=True):
            _, address = timed_reply()
        elapsed = time.perf_counter() - started

    assert elapsed >= SLOW_SMTP
    assert handler.accepted == [[address]]


# --- one SMTP connection per worker --------------------------------------------------


def test_the_worker_sends_email_after_email_on_one_connection(task_queue, run_worker, settings):
    handler = SinkHandler()
    with smtp_sink(handler) as port:
        settings.MAILERS = smtp_mailers(port)
        addresses = [timed_reply()[1] for _ in range(3)]
        run_worker()

    assert sorted(handler.accepted) == sorted([address] for address in addresses)
    assert len(set(handler.peers)) == 1


def test_a_kept_connection_the_server_dropped_is_reopened_without_a_retry(
    task_queue, run_worker, settings
):
    first, second = SinkHandler(), SinkHandler()
    with smtp_sink(first) as port:
        settings.MAILERS = smtp_mailers(port)
        timed_reply()
        run_worker()
    with smtp_sink(second, port=port):  # a restarted server: the kept connection is dead
        _, address = timed_reply()
        run_worker()

    assert second.accepted == [[address]]
    assert sorted(EmailDelivery.objects.values_list("status", "attempts")) == [
        ("sent", 1),
        ("sent", 1),
    ]
