"""Helpers shared by the parties tests."""

import html
import re
import zoneinfo
from datetime import datetime
from typing import Any

from django.contrib.messages import get_messages
from django.db.models import Sum
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django_tasks_db.models import DBTaskResult

from accounts.tests.helpers import pass_second_factor
from common.food import Course
from parties import services, worker
from parties.models import RSVP, DinnerParty, RSVPStatus


def assert_seats_consistent() -> None:
    """Every party's `seats_taken` is Σ(1 + plus_ones) over its going replies,
    never above its seats; waitlisted replies (and only those) carry an arrival time."""
    for party in DinnerParty.objects.all():
        going = RSVP.objects.filter(party=party, status=RSVPStatus.GOING)
        counted = going.count() + (going.aggregate(extra=Sum("plus_ones"))["extra"] or 0)
        assert party.seats_taken == counted, (
            f"{party.title!r}: seats_taken={party.seats_taken}, going replies hold {counted}"
        )
        assert party.seats_taken <= party.seats, f"{party.title!r} is overbooked"
    assert not RSVP.objects.filter(
        status=RSVPStatus.WAITLISTED, waitlisted_at__isnull=True
    ).exists()
    assert (
        not RSVP.objects.exclude(status=RSVPStatus.WAITLISTED)
        .filter(waitlisted_at__isnull=False)
        .exists()
    )


def going(party: DinnerParty, guest, plus_ones: int = 0) -> RSVP:
    """Reply "going" through the service, as the site does."""
    return services.rsvp_submit(
        party=party, guest=guest, status=RSVPStatus.GOING, plus_ones=plus_ones
    ).rsvp


def flash_messages(response: HttpResponse) -> list[str]:
    """The flash messages queued by a request (read once, as the next page would)."""
    return [str(message) for message in get_messages(response.wsgi_request)]


def page_text(response: HttpResponse) -> str:
    """The page as a user reads it: no tags, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


def spaced_text(response: HttpResponse) -> str:
    """Like `page_text`, with a space wherever a tag was (so "Where" and the place
    it names, or two badges side by side, stay apart)."""
    markup = response.content.decode()
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def client_for(user) -> Client:
    """A test client logged in as `user`; staff past the second factor too, as the
    admin asks (accounts.two_factor)."""
    client = Client()
    client.force_login(user)
    if user.is_staff:
        pass_second_factor(client, user)
    return client


def admin_form_data(response: HttpResponse, *, zone_name: str = "") -> dict[str, Any]:
    """What a browser would post back, unchanged, from an admin add/change page:
    the main form's fields and every inline formset (management form included).
    Times as shown in `zone_name` (default: the admin's own zone)."""
    zone = zoneinfo.ZoneInfo(zone_name or response.wsgi_request.user.timezone)
    data: dict[str, Any] = {}

    def put(form, name: str) -> None:
        value = form[name].value()
        key = form.add_prefix(name)
        if isinstance(value, datetime):
            local = timezone.localtime(value, zone) if timezone.is_aware(value) else value
            data[f"{key}_0"] = local.date().isoformat()
            data[f"{key}_1"] = local.time().isoformat(timespec="seconds")
        elif value is not None:
            data[key] = value

    form = response.context["adminform"].form
    for name in form.fields:
        put(form, name)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            put(formset.management_form, name)
        for inline_form in formset.initial_forms:
            for name in inline_form.fields:
                put(inline_form, name)
    return data


# --- The menu and the potluck ------------------------------------------------------


def dish_data(
    prefix: str = "",
    *,
    course: str = "dessert",
    name: str = "Lemon tart",
    allergens: tuple[str, ...] | list[str] = (),
    suits: tuple[str, ...] | list[str] = (),
    complete: bool = False,
) -> dict[str, Any]:
    """A dish form as a browser posts it (`prefix` "dish" to add, "claim" to bring one)."""
    key = f"{prefix}-" if prefix else ""
    data: dict[str, Any] = {
        f"{key}course": course,
        f"{key}name": name,
        f"{key}allergens": list(allergens),
        f"{key}suits": list(suits),
    }
    if complete:
        data[f"{key}allergens_complete"] = "on"
    return data


def open_potluck(party: DinnerParty, **wanted: int) -> None:
    """Open the potluck with `wanted` dishes per course (others: none)."""
    services.potluck_set_slots(
        party=party, wanted={course: wanted.get(course, 0) for course in Course.values}
    )
    party.refresh_from_db()


def claim(client: Client, party: DinnerParty, **dish) -> HttpResponse:
    """A guest brings a dish for a free slot, through the page's form."""
    return client.post(reverse("parties:slot_claim", args=[party.pk]), dish_data("claim", **dish))


def add_dish(client: Client, party: DinnerParty, **dish) -> HttpResponse:
    """A host adds a dish of their own, through the page's form."""
    return client.post(reverse("parties:dish_add", args=[party.pk]), dish_data("dish", **dish))


def dish_line(response: HttpResponse, name: str) -> str:
    """The text of the menu line for the dish called `name` (escaped as on the page)."""
    markup = response.content.decode()
    start = markup.index(f"<strong>{html.escape(name)}</strong>")
    end = markup.index("</li>", start)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup[start:end])).split())


def ticked(response: HttpResponse, name: str) -> set[str]:
    """The values of the checkboxes called `name` that are ticked on the page."""
    inputs = re.findall(r"<input\b[^>]*>", response.content.decode())
    return {
        re.search(r'value="([^"]*)"', tag).group(1)
        for tag in inputs
        if f'name="{name}"' in tag and re.search(r"\bchecked\b", tag)
    }


def queued_for(task_path: str, party: DinnerParty) -> list[DBTaskResult]:
    """The database queue's tasks `task_path` waiting to run for `party` (its id
    their first argument)."""
    return [
        task
        for task in DBTaskResult.objects.filter(task_path=task_path, status="READY")
        if task.args_kwargs["args"][0] == party.pk
    ]


def make_due(tasks: list[DBTaskResult]) -> None:
    """As if these queued tasks' time had come."""
    DBTaskResult.objects.filter(pk__in=[task.pk for task in tasks]).update(run_after=timezone.now())


def worker_for_tests(
    *,
    claim: int | None = None,
    threads: int | None = 1,
    worker_id: str = "test-worker",
    max_tasks=None,
):
    """The worker `manage.py task_worker --batch` makes (`parties.worker.make_worker`),
    for the default queue, in this process: no waits between claims, no start-up
    delay; it stops when the queue is empty. On one thread unless told (None: as
    `TASK_WORKER_THREADS` says): another thread has its own database connection,
    which doesn't see what the test's open transaction wrote (tests of more
    threads commit: `transaction=True`)."""
    return worker.make_worker(
        claim=claim,
        threads=threads,
        queue_names=["default"],
        excluded_queue_names=[],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id=worker_id,
    )
