"""Emails to guests and hosts, sent through Django's tasks framework.

Services call ``enqueue``. On the database queue (django-tasks-db, the default
wherever a worker runs) the task's row is written in the transaction of the
change that causes the email — a transactional outbox: the email is queued if and
only if the change commits, and a failing mail server can never roll back or
lose an RSVP, since the worker sends later. On a backend without a table of its
own (the immediate one the tests use) the task is enqueued once the change is
committed instead. Tasks take ids and plain values, so any worker can run them.
"""

import contextlib
import copy
import hashlib
import logging
import smtplib
import threading
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import datetime, timedelta
from email.message import MIMEPart

from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.tasks import Task, task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext, gettext_lazy, pgettext
from django_tasks_db import DatabaseBackend

from accounts.models import User
from common.sql import constant
from parties import calendar, guest_replies, queries
from parties.mime import WorkerEmail
from parties.models import (
    RSVP,
    Announcement,
    DeliveryStatus,
    DinnerParty,
    EmailDelivery,
    Invitation,
    PendingReply,
    RSVPStatus,
    audience_statuses,
)

logger = logging.getLogger(__name__)

# Who hears about a change of time or place, or a cancellation.
INTERESTED = (RSVPStatus.GOING, RSVPStatus.MAYBE, RSVPStatus.WAITLISTED)


def enqueue(task_: Task, *args, **kwargs) -> None:
    """Queue `task_` with the change being made: in its transaction on the
    database queue (so the task commits or rolls back with it), else on commit."""
    if _queued(task_):
        task_.enqueue(*args, **kwargs)
        return

    def enqueue_now() -> None:
        try:
            task_.enqueue(*args, **kwargs)
        except Exception:
            logger.exception("Could not enqueue %s", task_.name)

    transaction.on_commit(enqueue_now)


# The id of the queued task the worker is running (set by `parties.queue` when a
# task starts), so `send` knows which emails a re-run of it already handled.
current_task_id: ContextVar[str] = ContextVar("current_task_id", default="")
# Whether a worker ran (or claimed) that task before: only then can it have sent
# some of its emails already, so only then does `send` look for them (a query per
# email saved on every first run). Set with `current_task_id`.
current_task_rerun: ContextVar[bool] = ContextVar("current_task_rerun", default=True)
# The keys of the emails this run of the task has handled (the same email twice
# in one run, e.g. a repeated address, is then looked up as a re-run's would be).
current_task_keys: ContextVar[set[str] | None] = ContextVar("current_task_keys", default=None)


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


# --- How emails speak -------------------------------------------------------------
# Every email extends templates/emails/base.html and base.txt: a greeting by name,
# the body, one button (`action_url`, `action_label`), a sign-off. Every email about
# a party names its date and place in the subject line (`subject_line`).


# --- In the recipient's language ----------------------------------------------------
# A task activates the language of the person an email goes to (`speaking`) around
# everything it writes: subject, bodies, dates, the .ics text. A member has theirs
# on their profile (`language_of`); someone without an account gets the language
# of the request that caused the email, passed in the task's arguments.


def language_of(user) -> str:
    """The language to write to `user` in: their profile's, else the site's."""
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def speaking(language: str | None) -> translation.override:
    """Write in `language` (the site's when none is known) inside the block."""
    return translation.override(language or settings.LANGUAGE_CODE)


def request_language() -> str:
    """The language active now (the request's, in a view or service): for the
    task arguments of an email to someone without an account."""
    return translation.get_language() or settings.LANGUAGE_CODE


def greeting_name(user) -> str:
    """The name an email greets `user` by: their first name, else their full name;
    never their username (the greeting is then a plain "Hello,")."""
    return user.first_name.strip() or user.get_full_name()


def subject_line(headline: str, *, when: str, place: str) -> str:
    """“You're going to “Supper” · Sat 12 Dec, 19:00 CET · Kreuzberg”: what
    happened, then the party's date and the place as the recipient may see it."""
    return pgettext("separator in an email's subject line", " · ").join(
        part for part in (headline, when, place) if part
    )


def public_place(party: DinnerParty) -> str:
    """The place as anyone who can see the party sees it: the exact address only
    when the host doesn't keep it for guests at the table."""
    return party.area if party.hide_address else party.venue


# What a reply's confirmation says it was, and what its host hears (formatted
# with `title` and `guest` in the recipient's language).
GUEST_HEADLINES = {
    RSVPStatus.GOING: gettext_lazy("You're going to “%(title)s”"),
    RSVPStatus.WAITLISTED: gettext_lazy("You're on the waitlist for “%(title)s”"),
    RSVPStatus.MAYBE: gettext_lazy("You might come to “%(title)s”"),
    RSVPStatus.DECLINED: gettext_lazy("You can't make it to “%(title)s”"),
}
HOST_HEADLINES = {
    RSVPStatus.GOING: gettext_lazy("%(guest)s is going to “%(title)s”"),
    RSVPStatus.WAITLISTED: gettext_lazy("%(guest)s is on the waitlist for “%(title)s”"),
    RSVPStatus.MAYBE: gettext_lazy("%(guest)s might come to “%(title)s”"),
    RSVPStatus.DECLINED: gettext_lazy("%(guest)s can't make it to “%(title)s”"),
}


# --- Confirmed addresses only ---------------------------------------------------------
# Until a user opens the link sent to their address (accounts.verification, which
# sends that one email itself), the site emails them nothing, and what they send to
# others waits (`send_announcement`). These two say where a user may be emailed.


def address_of(user) -> str:
    """The address to email `user` at: theirs once confirmed, else none ("")."""
    return user.email if user.email_confirmed else ""


def guest_addresses_and_languages(rsvps: QuerySet[RSVP]) -> list[tuple[str, str]]:
    """`address_of` the guests of these replies, each with the guest's language
    (`language_of`), in one query."""
    confirmed = rsvps.filter(guest__email_confirmed_at__isnull=False)
    return [
        (address, language or settings.LANGUAGE_CODE)
        for address, language in confirmed.values_list("guest__email", "guest__language")
    ]


def send(
    *,
    to: Iterable[str],
    subject: str,
    template: str,
    context: dict,
    calendar: dict[str, str] | None = None,
    on_record: Callable[[EmailDelivery], None] | None = None,
) -> int:
    """One email with a plain-text and an HTML body, from templates/emails/, sent
    now (tasks call this: it runs in the worker) and then recorded with its fate
    (`EmailDelivery`); a transient failure queues `deliver_email` to try again.
    `calendar` ({"method": "REQUEST" or "CANCEL", "ics": text}) goes with it as
    a text/calendar part, so calendars add, move or cancel the entry.
    Returns the number of emails (0 with no recipient)."""
    recipients = [address for address in to if address]
    if not recipients:
        return 0
    context = {**context, "site_url": settings.SITE_URL}
    message = {
        "to": recipients,
        "subject": " ".join(subject.split()),  # user text: no line breaks in a header
        "body": render_to_string(f"emails/{template}.txt", context),
        "html": render_to_string(f"emails/{template}.html", context),
        # What `speaking` activated: the recipient's language, in the header too.
        "language": request_language(),
    }
    if calendar:
        message["calendar"] = calendar
    to = ", ".join(recipients)
    task_key = ""
    if task_id := current_task_id.get():
        task_key = hashlib.sha256(f"{task_id}\n{template}\n{to}".encode()).hexdigest()
        handled = current_task_keys.get()
        again = current_task_rerun.get() or handled is None or task_key in handled
        if handled is not None:
            handled.add(task_key)
        earlier = again and list(recorded_before(task_key))
        if earlier:  # this task ran before, and its worker died
            pk, status = earlier[0]
            if status == DeliveryStatus.QUEUED:  # an earlier version's, mid-send: again
                deliver(pk, message, attempt=1, fresh=True)
            return 1  # else sent, failed, or its retry is queued already
    record = {"template": template, "to": to, "subject": message["subject"]}
    deliver(None, message, attempt=1, record={**record, "task_key": task_key}, on_record=on_record)
    return 1


def recorded_before(task_key: str) -> QuerySet:
    """(pk, status) of the email `task_key` names, if a run of its task recorded
    it. `task_key <> ''` as in the unique index's condition, written as a
    constant so that index serves it, prepared or not (common.sql)."""
    deliveries = EmailDelivery.objects.filter(task_key=task_key).exclude(task_key=constant(""))
    return deliveries.order_by().values_list("pk", "status")[:1]


def _queued(task_: Task) -> bool:
    """Whether `task_` goes to the database queue, in the transaction (else it is
    enqueued once the change commits)."""
    return isinstance(task_.get_backend(), DatabaseBackend)


def in_worker(task_: Task) -> bool:
    """Whether `task_` runs later, in a worker (the database queue or RQ), which
    can also hold it until a `run_after` or run it again later: not the immediate
    backend, which runs it at once."""
    return task_.get_backend().supports_defer


# --- Delivery, with retries ---------------------------------------------------------
# A transient failure (a 4xx reply, a refused or reset connection, a timeout) is
# tried again after each of these delays, then given up; a permanent one (a 5xx
# reply, a rejected address) is not retried.
RETRY_DELAYS = (
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)


# --- One SMTP connection per worker ----------------------------------------------
# A worker sends email after email: it keeps its connection to the mail server open
# between them instead of opening one per email (connect, EHLO, QUIT), which
# measured 4.5x faster to a local server (bench/mail.py: 44 -> 200+ emails/s). A
# connection the server has closed meanwhile (idle timeout) is opened again once.
# Processes that only enqueue never open one; the immediate backend sends as before.
_kept = threading.local()
# A kept connection that fails with one of these is stale: reconnect and resend
# once. (The server dropped it between emails, before this one was accepted.)
STALE_CONNECTION = (smtplib.SMTPServerDisconnected, ConnectionResetError, BrokenPipeError)


def send_message(email: EmailMultiAlternatives) -> None:
    """Send `email` on the worker's kept connection (a new one on the immediate
    backend, which sends from web processes)."""
    if not in_worker(deliver_email):
        email.send()
        return
    key = repr(getattr(settings, "MAILERS", {}).get("default"))  # settings may change
    connection = getattr(_kept, "connection", None)
    if connection is not None and _kept.key != key:
        close_kept_connection()
        connection = None
    reused = connection is not None
    if connection is None:
        connection = mail.mailers.default
        connection.open()
        _kept.connection, _kept.key = connection, key
    try:
        connection.send_messages([email])
    except STALE_CONNECTION:
        close_kept_connection()
        if not reused:
            raise
        send_message(email)  # on a new connection: this time not a reused one
    except Exception:
        close_kept_connection()  # after an SMTP error, start the next email afresh
        raise


def close_kept_connection() -> None:
    connection = getattr(_kept, "connection", None)
    _kept.connection = None
    if connection is not None:
        with contextlib.suppress(Exception):  # it is being dropped: nothing to save
            connection.close()


def is_transient(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPException):  # e.g. no STARTTLS: no use retrying
        return isinstance(error, smtplib.SMTPServerDisconnected)
    # Refused or reset connections, timeouts, names that don't resolve.
    return isinstance(error, OSError)


@task
def deliver_email(delivery_id: int, message: dict, *, attempt: int = 1) -> str:
    """Send one email `send` composed; on a transient failure, queue itself again
    for later (the attempt counted in its arguments). Returns what happened."""
    return deliver(delivery_id, message, attempt=attempt)


def deliver(
    delivery_id: int | None,
    message: dict,
    *,
    attempt: int,
    fresh: bool = False,
    record: dict | None = None,
    on_record: Callable[[EmailDelivery], None] | None = None,
) -> str:
    """Try to send `message`, record what happened. The message's link (e.g. an
    address confirmation's) is stored in the queue only while it is retried.

    A first attempt (`delivery_id` None) writes its `EmailDelivery` once, after
    the attempt, with its fate (`record` holds its other fields; `on_record` is
    given it): one write an email, not a "queued" row and then its update. A
    worker that dies between sending and writing leaves no row, so the task's
    re-run sends it again, as it would a row left "queued" mid-send."""
    if delivery_id is not None and not fresh:
        unfinished = EmailDelivery.objects.filter(pk=delivery_id).exclude(
            status__in=[DeliveryStatus.SENT, DeliveryStatus.FAILED]
        )
        if not unfinished.exists():
            return "done already"  # e.g. re-queued after its worker died mid-way
    email = WorkerEmail(
        subject=message["subject"],
        body=message["body"],
        to=message["to"],
        headers={"Content-Language": message.get("language") or settings.LANGUAGE_CODE},
    )
    email.attach_alternative(message["html"], "text/html")
    if message.get("calendar"):
        email.attach(calendar_part(**message["calendar"]))
    try:
        send_message(email)
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"[:1000]
        retry = attempt <= len(RETRY_DELAYS) and is_transient(error) and in_worker(deliver_email)
        if not retry:
            fate = {"status": DeliveryStatus.FAILED, "last_error": reason}
            delivery_id = _record(delivery_id, record, on_record, attempts=attempt, **fate)
            logger.warning("Email %s failed (attempt %s): %s", delivery_id, attempt, reason)
            return DeliveryStatus.FAILED
        run_after = timezone.now() + RETRY_DELAYS[attempt - 1]
        with transaction.atomic():
            fate = {"status": DeliveryStatus.RETRYING, "last_error": reason}
            delivery_id = _record(
                delivery_id, record, on_record, attempts=attempt, next_attempt_at=run_after, **fate
            )
            if delivery_id is not None:
                enqueue(
                    deliver_email.using(run_after=run_after),
                    delivery_id,
                    message,
                    attempt=attempt + 1,
                )
        return DeliveryStatus.RETRYING
    _record(delivery_id, record, on_record, status=DeliveryStatus.SENT, attempts=attempt)
    return DeliveryStatus.SENT


def _record(
    delivery_id: int | None,
    record: dict | None,
    on_record: Callable[[EmailDelivery], None] | None,
    **fate,
) -> int | None:
    """Write an attempt's fate: a new `EmailDelivery` from `record` (a first
    attempt) or an update of `delivery_id`'s. Returns its id; None when another
    run of the same task recorded this email first (a task swept back to the
    queue while its worker was alive but slow: both sent it)."""
    fate.setdefault("next_attempt_at", None)
    if record is None:
        EmailDelivery.objects.filter(pk=delivery_id).update(**fate, updated_at=timezone.now())
        return delivery_id
    # Outside a transaction (the worker) a refused INSERT spoils nothing; inside
    # one it must not spoil the transaction, so it gets a savepoint.
    in_block = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic() if in_block else contextlib.nullcontext():
            delivery = EmailDelivery.objects.create(**record, **fate)
    except IntegrityError:  # its task_key is taken: recorded by the other run
        return None
    if on_record is not None:  # e.g. an invitation keeps its email's fate
        on_record(delivery)
    return delivery.pk


def calendar_part(*, method: str, ics: str) -> MIMEPart:
    """An .ics as the part calendars read an invitation from (RFC 6047):
    text/calendar with its METHOD as a parameter, as invite.ics."""
    part = MIMEPart()
    part.set_content(
        ics,
        subtype="calendar",
        charset="utf-8",
        params={"method": method},
        disposition="attachment",
        filename="invite.ics" if method == calendar.REQUEST else "cancel.ics",
    )
    return part


def invitation(
    party: DinnerParty,
    *,
    location: str,
    url: str = "",
    to: tuple[str, str] | None = None,
    status: str = "",
    method: str = "",
) -> dict[str, str]:
    """The calendar part of an email about `party` to `to` (address, name), who
    replied `status`: REQUEST (add or move the entry) or, for someone who can't
    go, CANCEL (take it off)."""
    method = method or (calendar.CANCEL if status == RSVPStatus.DECLINED else calendar.REQUEST)
    attendee = None
    if to and to[0]:
        partstat = {RSVPStatus.GOING: "ACCEPTED", RSVPStatus.DECLINED: "DECLINED"}
        attendee = (*to, partstat.get(status, "TENTATIVE"))
    ics = calendar.party_to_ics(
        party,
        url=url or site_url(party.get_absolute_url()),
        location=location,
        method=method,
        cancelled=method == calendar.CANCEL,
        attendee=attendee,
    )
    return {"method": method, "ics": ics.decode()}


def cancellation_ics(party: DinnerParty) -> dict[str, str]:
    """The CANCEL part for a party being deleted (a higher SEQUENCE than any copy
    sent before). Its place is the rough area: a cancellation needs no address."""
    party.sequence += 1
    return invitation(party, location=party.area, method=calendar.CANCEL)


def venue_for_guest(party: DinnerParty, rsvp: RSVP, *, cohost_ids: set[int] | None = None) -> str:
    """What a guest's email may say about the place: a co-host gets the address
    whatever their own reply, as on the party page. (Whether they co-host is
    looked up only when it matters: when their reply alone wouldn't show it.)"""
    shown = party.venue_for(user=rsvp.guest, status=rsvp.status)
    if shown == party.venue:
        return shown
    if cohost_ids is not None:
        cohost = rsvp.guest_id in cohost_ids
    else:
        cohost = party.cohosts.filter(pk=rsvp.guest_id).exists()
    return party.venue if cohost else shown


def _rsvp(rsvp_id: int) -> RSVP | None:
    """A reply with its party, host and guest (None if it is gone by now)."""
    try:
        return RSVP.objects.select_related("party__host", "guest").get(pk=rsvp_id)
    except RSVP.DoesNotExist:
        return None


def enqueue_rsvp_emails(rsvp: RSVP, *, notify_host: bool) -> None:
    """After the commit, confirm a reply to the guest and, if `notify_host`, tell
    the host. The caller holds the reply with its party and host as it just saved
    them: the emails describe that reply, as plain values, so the task loads
    nothing and a guest who replies twice in a row gets two different emails,
    each saying what that reply was."""
    party = rsvp.party
    guest_language, host_language = language_of(rsvp.guest), language_of(party.host)
    with speaking(guest_language):
        when, description = party.when, party.describe()
    with speaking(host_language):
        host_when = party.when
    reply = {
        "name": greeting_name(rsvp.guest),
        "host_greeting": greeting_name(party.host),
        "guest_language": guest_language,
        "host_language": host_language,
        "when": when,
        "host_when": host_when,
        "host_place": party.venue,
        "guest_name": rsvp.guest.display_name,
        "guest_email": address_of(rsvp.guest),
        "status": rsvp.status,
        "status_label": rsvp.get_status_display(),
        "plus_ones": rsvp.plus_ones,
        "note": rsvp.note,
        "title": party.title,
        "description": description,
        "venue": venue_for_guest(party, rsvp),
        "main_dish": party.main_dish,
        "host_name": party.host_name,
        "host_email": address_of(party.host),
        "seats_taken": party.seats_taken,
        "seats": party.seats,
        "party_url": site_url(party.get_absolute_url()),
        "party_id": party.pk,
    }
    enqueue(send_rsvp_emails, reply, notify_host=notify_host)


@task
def send_rsvp_emails(reply: dict[str, str | int], *, notify_host: bool) -> None:
    """Confirm a reply to the guest; tell the host about a new or changed reply.
    `reply` is what `enqueue_rsvp_emails` describes it with."""
    when = reply.get("when", "")
    context = {**reply, "action_url": reply["party_url"]}
    names = {"title": reply["title"], "guest": reply["guest_name"]}
    with speaking(reply.get("guest_language")):
        send(
            to=[reply["guest_email"]],
            subject=subject_line(
                GUEST_HEADLINES[reply["status"]] % names, when=when, place=reply["venue"]
            ),
            template="rsvp_confirmation",
            context={**context, "status_label": RSVPStatus(reply["status"]).label},
            calendar=_reply_invitation(reply) if reply["guest_email"] else None,
        )
    if notify_host:
        with speaking(reply.get("host_language")):
            send(
                to=[reply["host_email"]],
                subject=subject_line(
                    HOST_HEADLINES[reply["status"]] % names,
                    when=reply.get("host_when", when),
                    place=reply.get("host_place", ""),
                ),
                template="rsvp_host_note",
                context={
                    **context,
                    "name": reply.get("host_greeting", ""),
                    "when": reply.get("host_when", when),
                    "status_label": RSVPStatus(reply["status"]).label,
                },
            )


def _reply_invitation(reply: dict) -> dict[str, str] | None:
    """The calendar part of a reply's confirmation: the party as it is now (its
    latest SEQUENCE), the place as the reply showed it (None if it is gone)."""
    party_id = reply.get("party_id")
    party = queries.PARTY_WITH_HOST.first(pk=party_id) if party_id else None
    if party is None:
        return None
    return invitation(
        party,
        location=reply["venue"],
        url=reply["party_url"],
        to=(reply["guest_email"], reply["guest_name"]),
        status=reply["status"],
    )


@task
def send_promotion_email(rsvp_id: int) -> None:
    send_to_going_guest(
        rsvp_id,
        template="promoted",
        headline=gettext_lazy("You're off the waitlist for “%(title)s”"),
    )


def party_before(party: DinnerParty) -> dict[str, str]:
    """What `send_party_changed_email` needs to say what a party's time and place
    were, taken before they change (plain values, for the task's arguments)."""
    return {
        "starts_at": party.starts_at.isoformat(),
        "timezone": party.timezone,
        "venue": party.venue,
    }


@task
def send_party_changed_email(
    party_id: int, changed: list[str], before: dict[str, str] | None = None
) -> None:
    """Tell everyone going, maybe or waitlisted that the time or place moved: what
    it was (`before`, from `party_before`) and what it is now."""
    party = DinnerParty.objects.select_related("host").filter(pk=party_id).first()
    if party is None:
        return
    before = before or {}
    old_party = copy.copy(party)
    old_party.venue = before.get("venue", party.venue)
    guests = party.rsvps.filter(status__in=INTERESTED).select_related("guest")
    cohost_ids = set(party.cohosts.values_list("pk", flat=True))
    for rsvp in guests:
        address = address_of(rsvp.guest)
        if not address:
            continue
        with speaking(language_of(rsvp.guest)):
            _send_party_changed(party, rsvp, address, changed, before, old_party, cohost_ids)


def _send_party_changed(
    party: DinnerParty,
    rsvp: RSVP,
    address: str,
    changed: list[str],
    before: dict[str, str],
    old_party: DinnerParty,
    cohost_ids: set[int],
) -> None:
    """One guest's email about a new time or place, in the active language."""
    if "time" in changed and "place" in changed:
        headline = gettext("New time and place for “%(title)s”") % {"title": party.title}
    elif "time" in changed:
        headline = gettext("New time for “%(title)s”") % {"title": party.title}
    else:
        headline = gettext("New place for “%(title)s”") % {"title": party.title}
    was_when = ""
    if "time" in changed and before.get("starts_at"):
        was = DinnerParty(
            starts_at=datetime.fromisoformat(before["starts_at"]),
            timezone=before.get("timezone") or party.timezone,
        )
        was_when = was.when if was.when != party.when else ""
    venue = venue_for_guest(party, rsvp, cohost_ids=cohost_ids)
    was_venue = venue_for_guest(old_party, rsvp, cohost_ids=cohost_ids)
    send(
        to=[address],
        subject=subject_line(headline, when=party.when, place=venue),
        template="party_changed",
        context={
            "name": greeting_name(rsvp.guest),
            "party": party,
            "host": party.host_name,
            "changed": changed,
            "venue": venue,
            "was_when": was_when,
            "was_venue": was_venue if was_venue != venue else "",
            "party_url": site_url(party.get_absolute_url()),
            "action_url": site_url(party.get_absolute_url()),
        },
        calendar=invitation(
            party,
            location=venue,
            to=(address, rsvp.guest.display_name),
            status=rsvp.status,
            method=calendar.REQUEST,
        ),
    )


@task
def send_party_cancelled_email(
    recipients: list[str] | list[list[str]],
    title: str,
    when: str,
    host: str,
    place: str = "",
    *,
    calendar: dict[str, str] | None = None,
    starts_at: str = "",
    zone: str = "",
) -> None:
    """`place` as anyone invited saw it (`public_place`): the party is gone by now.
    `calendar`: the CANCEL part (`cancellation_ics`), made before the party went.
    `recipients`: addresses, or (address, language) pairs; with `starts_at` (ISO
    8601) and `zone` the date is written in each recipient's language, else `when`."""
    list_url = site_url(reverse("parties:list"))
    for recipient in recipients:
        address, language = (recipient, "") if isinstance(recipient, str) else recipient
        with speaking(language):
            if starts_at and zone:
                when = DinnerParty(starts_at=datetime.fromisoformat(starts_at), timezone=zone).when
            send(
                to=[address],
                subject=subject_line(
                    gettext("Cancelled: “%(title)s”") % {"title": title}, when=when, place=place
                ),
                template="party_cancelled",
                context={
                    "title": title,
                    "when": when,
                    "place": place,
                    "host": host,
                    "list_url": list_url,
                    "action_url": list_url,
                    "action_label": gettext("Find another table"),
                },
                calendar=calendar,
            )


@task
def send_reminder_email(rsvp_id: int) -> None:
    send_to_going_guest(
        rsvp_id, template="reminder", headline=gettext_lazy("Reminder: “%(title)s”")
    )


def send_to_going_guest(rsvp_id: int, *, template: str, headline: str) -> None:
    """Email a guest who is (still) at the table, in their language; `headline`,
    formatted with the party's `title`, starts the subject line."""
    rsvp = _rsvp(rsvp_id)
    if rsvp is None or rsvp.status != RSVPStatus.GOING:
        return
    with speaking(language_of(rsvp.guest)):
        _send_to_going_guest(rsvp, template=template, headline=headline)


def _send_to_going_guest(rsvp: RSVP, *, template: str, headline: str) -> None:
    party = rsvp.party
    venue = party.venue_for(user=rsvp.guest, status=rsvp.status)
    send(
        to=[address_of(rsvp.guest)],
        subject=subject_line(headline % {"title": party.title}, when=party.when, place=venue),
        template=template,
        context={
            "name": greeting_name(rsvp.guest),
            "rsvp": rsvp,
            "party": party,
            "venue": venue,
            "party_url": site_url(party.get_absolute_url()),
            "action_url": site_url(party.get_absolute_url()),
        },
    )


@task
def send_announcement(announcement_id: int) -> None:
    """A host's message, to each guest of the chosen status, once. An author who
    has not confirmed their address yet: it waits, and confirming sends it
    (`services.send_held_announcements`)."""
    announcement = (
        Announcement.objects.select_related("party__host", "author")
        .filter(pk=announcement_id)
        .first()
    )
    if announcement is None or not announcement.author.email_confirmed:
        return
    sent = Announcement.objects.filter(pk=announcement.pk, emailed_at__isnull=True)
    if not sent.update(emailed_at=timezone.now()):
        return  # already on its way (its author confirmed while it was queued)
    party = announcement.party
    guests = party.rsvps.filter(status__in=audience_statuses(announcement.audience))
    confirmed = guests.filter(guest__email_confirmed_at__isnull=False)
    author = announcement.author.display_name
    context = {
        "announcement": announcement,
        "author": author,
        "party": party,
        "party_url": site_url(party.get_absolute_url()),
        "action_url": site_url(party.get_absolute_url()),
    }
    # One email per guest, greeted by name, so guests never see each other's
    # addresses, in the guest's language.
    for address, first_name, last_name, language in confirmed.values_list(
        "guest__email", "guest__first_name", "guest__last_name", "guest__language"
    ):
        name = first_name.strip() or f"{first_name} {last_name}".strip()
        with speaking(language):
            subject = subject_line(
                gettext("A message from %(author)s about “%(title)s”")
                % {"author": author, "title": party.title},
                when=party.when,
                place=public_place(party),
            )
            send(
                to=[address],
                subject=subject,
                template="announcement",
                context={**context, "name": name},
            )


# --- Replies without a password (parties/guest_replies.py) ------------------------------


def _party_path(party: DinnerParty, invite_token: str) -> str:
    """Where a visitor who came by the invite link (or a public party's page) finds it."""
    if invite_token:
        return reverse("parties:invite", args=[invite_token])
    return party.get_absolute_url()


@task
def send_guest_reply_link(reply_id: int, *, language: str = "") -> None:
    """The link that makes a visitor's reply count (built now: the task's
    arguments hold no token), in the language the visitor replied in."""
    reply = PendingReply.objects.select_related("party__host").filter(pk=reply_id).first()
    if reply is None or reply.used_at is not None:
        return
    with speaking(language):
        _send_guest_reply_link(reply)


def _send_guest_reply_link(reply: PendingReply) -> None:
    party = reply.party
    link = reverse("parties:guest_reply_confirm", args=[party.pk, guest_replies.link_token(reply)])
    send(
        to=[reply.email],
        subject=gettext("Confirm your reply to “%(title)s”") % {"title": party.title},
        template="guest_reply_link",
        context={
            "name": reply.name,
            "description": party.describe(),
            "status": reply.status,
            "status_label": reply.get_status_display(),
            "plus_ones": reply.plus_ones,
            "link": site_url(link),
            "hours": int(guest_replies.LINK_VALID_FOR.total_seconds() // 3600),
        },
    )


@task
def send_log_in_to_reply_email(user_id: int, party_id: int, invite_token: str) -> None:
    """Someone replied from a party's preview with the address of an account that
    logs in with a password: its owner is asked to log in and reply (a link never
    logs such an account in). Only to a confirmed address, as every email."""
    user = User.objects.filter(pk=user_id).first()
    party = DinnerParty.objects.select_related("host").filter(pk=party_id).first()
    if user is None or party is None:
        return
    path = _party_path(party, invite_token)
    with speaking(language_of(user)):
        _send_log_in_to_reply(user, party, path)


def _send_log_in_to_reply(user: User, party: DinnerParty, path: str) -> None:
    send(
        to=[address_of(user)],
        subject=gettext("Log in to reply to “%(title)s”") % {"title": party.title},
        template="log_in_to_reply",
        context={
            "username": user.username,
            "description": party.describe(),
            "login_url": site_url(f"{reverse('login')}?{urlencode({'next': path})}"),
            "reset_url": site_url(reverse("password_reset")),
        },
    )


# --- Invitations by email (parties/invitations.py) ---------------------------------------


@task
def send_invitation_email(
    invitation_id: int, *, reminder: bool = False, language: str = ""
) -> None:
    """A personal invitation (or its reminder): the party's preview and the link
    that opens it and takes a reply without a password. Held ones wait for the
    host's address to be confirmed (services.send_held_invitations)."""
    invitation = (
        Invitation.objects.select_related("party__host", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation.state == "held":
        return
    if reminder and not Invitation.objects.unanswered().filter(pk=invitation.pk).exists():
        return  # answered since the reminder was queued
    party = invitation.party
    if party.has_started:
        return
    inviter = invitation.invited_by

    def record(delivery: EmailDelivery) -> None:
        Invitation.objects.filter(pk=invitation.pk).update(
            delivery=delivery, sent_at=invitation.sent_at or timezone.now()
        )

    # The invitee may have no account: the language of the host's request.
    with speaking(language):
        names = {"inviter": inviter.display_name, "title": party.title}
        if reminder:
            subject = gettext("Reminder: %(inviter)s invites you to “%(title)s”") % names
        else:
            subject = gettext("%(inviter)s invites you to “%(title)s”") % names
        send(
            to=[invitation.email],
            subject=subject,
            template="invitation",
            context={
                "name": invitation.name,
                "inviter": inviter.display_name,
                "reminder": reminder,
                "party": party,
                "area": party.area or gettext("Address shared with guests at the table"),
                "link": site_url(invitation.get_absolute_url()),
            },
            on_record=record,
        )
