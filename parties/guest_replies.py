"""Replies without a password: a visitor answers from a party's preview with
their name and address, and the reply counts when the link emailed to that
address is opened (`services.guest_reply_confirm`).

The link names the waiting reply (`PendingReply`), signed, good for
LINK_VALID_FOR and once only (its `used_at`). This module makes and reads links;
the writes are in services.py, the pages in parties/views/preview.py.
"""

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.core import signing

from parties.models import PendingReply

LINK_VALID_FOR = timedelta(hours=24)
SALT = "parties.guest_replies"


def link_token(reply: PendingReply) -> str:
    return signing.dumps({"r": reply.pk, "p": reply.party_id}, salt=SALT)


class LinkProblem(StrEnum):
    INVALID = "invalid"  # not one of ours: tampered with, cut short, or the reply is gone
    EXPIRED = "expired"
    USED = "used"
    OTHER_PARTY = "other_party"  # a good link, opened under another party's address
    MEMBER = "member"  # the address belongs to an account with a password: log in
    OTHER_ACCOUNT = "other_account"  # the browser is logged in to another account
    CLOSED = "closed"  # the party refuses the reply now (started, link replaced…)
    INACTIVE = "inactive"  # the address's account has been closed (deactivated)


@dataclass(frozen=True)
class LinkCheck:
    reply: PendingReply | None = None
    problem: LinkProblem | None = None
    detail: str = ""  # what the party's rules said, for CLOSED


@dataclass(frozen=True)
class LinkRead:
    """What a link's token says, by its signature alone (no query): the reply it
    names, or why it names none this party may take."""

    reply_id: int | None = None
    problem: LinkProblem | None = None  # INVALID, OTHER_PARTY or EXPIRED


def read_link(token: str, *, party_id: int) -> LinkRead:
    """The reply the link with `token` names for party `party_id`, checked by its
    signature and age only: the reply itself is read by the caller (the service
    reads it once, under its lock, and checks it again)."""
    expired = False
    try:
        data = signing.loads(token, salt=SALT, max_age=LINK_VALID_FOR)
    except signing.SignatureExpired:
        # Ours, but too old: read which reply it was for, to offer its party's page.
        expired, data = True, signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return LinkRead(problem=LinkProblem.INVALID)
    try:
        reply_id, link_party = int(data["r"]), int(data["p"])
    except (KeyError, TypeError, ValueError):
        return LinkRead(problem=LinkProblem.INVALID)
    if link_party != party_id:
        return LinkRead(problem=LinkProblem.OTHER_PARTY)
    return LinkRead(reply_id, LinkProblem.EXPIRED if expired else None)


def check_link(token: str, *, party_id: int) -> LinkCheck:
    """The waiting reply the link with `token` confirms for party `party_id`, or
    why it won't do (without locking anything: the service checks again)."""
    read = read_link(token, party_id=party_id)
    if read.reply_id is None:
        return LinkCheck(problem=read.problem)
    reply = PendingReply.objects.filter(pk=read.reply_id, party_id=party_id).first()
    if reply is None:
        return LinkCheck(problem=LinkProblem.INVALID)
    if read.problem is not None:
        return LinkCheck(reply, read.problem)
    if reply.used_at is not None:
        return LinkCheck(reply, LinkProblem.USED)
    return LinkCheck(reply)
