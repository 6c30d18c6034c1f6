"""parties.mime: an email built with headers parsed and folded once per process
has the bytes Django's own `EmailMultiAlternatives` gives it."""

import email.policy
import re

import pytest
from django.core.mail import EmailMultiAlternatives

from parties.mime import WorkerEmail
from parties.notifications import calendar_part

FIXED = {"Date": "Sat, 05 Dec 2026 10:00:00 +0000", "Message-ID": "<1@dinnerparty.localhost>"}


def build(cls, subject: str, to: str, *, policy=email.policy.SMTP) -> bytes:
    message = cls(subject=subject, body="Hello Zoë,\n\nSee you.\n", to=[to], headers=FIXED)
    message.attach_alternative("<p>Hello Zoë, " + "x" * 120 + "</p>", "text/html")
    message.attach(calendar_part(method="REQUEST", ics="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"))
    data = message.message(policy=policy).as_bytes()
    return re.sub(rb"={15}\d+==", b"BOUNDARY", data)  # the one random part


@pytest.mark.parametrize("policy", [email.policy.SMTP, email.policy.default])
@pytest.mark.parametrize(
    ("subject", "to"),
    [
        ("You're going to “Paella night” · Sat 12 Dec, 19:00 CET", "guest@example.com"),
        ("A plain subject", "Zoë Müller <zoe@example.com>"),
        ("Long " * 40, "host@bücher.example"),
    ],
)
def test_an_email_has_the_same_bytes_built_once_and_again_as_djangos_own(subject, to, policy):
    expected = build(EmailMultiAlternatives, subject, to, policy=policy)

    assert build(WorkerEmail, subject, to, policy=policy) == expected
    assert build(WorkerEmail, subject, to, policy=policy) == expected  # from the reused headers
