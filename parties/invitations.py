"""Invitations by email: reading the addresses a host pastes, and the limits.
The writes are in services.py (`invitations_send`, `invitation_reply`,
`invitations_remind`), the pages in parties/views/invitations.py."""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext

from common.text import validate_single_line_text

PER_PASTE = 50  # addresses in one paste
PER_HOST_PER_DAY = 200  # invitations one host sends in 24 hours
REMIND_EVERY = timedelta(days=1)  # "remind those who haven't answered", per party

# "Name <address>", "<address>" or a bare address; the name may be quoted.
NAMED = re.compile(r'^\s*(?:"(?P<quoted>[^"]*)"|(?P<name>[^<>"]*?))\s*<(?P<email>[^<>]*)>\s*$')
MAX_NAME = 150
MAX_EMAIL = 254
_email_validator = EmailValidator()


@dataclass
class Pasted:
    """What a paste holds: the addresses to invite (name, address), each once
    (the first name given wins), and the lines that are not one, with why."""

    valid: list[tuple[str, str]] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)
    merged: int = 0  # lines that repeated an address


def _reason(name: str, email: str) -> str | None:
    if not email:
        return gettext("no email address")
    if len(email) > MAX_EMAIL:
        return gettext("the address is longer than %(max)d characters") % {"max": MAX_EMAIL}
    if len(name) > MAX_NAME:
        return gettext("the name is longer than %(max)d characters") % {"max": MAX_NAME}
    try:
        validate_single_line_text(name)
        validate_single_line_text(email)
        _email_validator(email)
    except ValidationError as error:
        if error.code == "control_characters":
            return gettext("it has invisible control characters")
        return gettext("not an email address")
    return None


def parse_addresses(text: str) -> Pasted:
    """One invitee a line: `Name <address>` or `address`. Blank lines are skipped."""
    pasted, seen = Pasted(), set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        match = NAMED.match(line)
        if match:
            name = (match.group("quoted") or match.group("name") or "").strip()
            email = match.group("email").strip()
        else:
            name, email = "", line
        reason = _reason(name, email)
        if reason:
            pasted.invalid.append((line, reason))
        elif email.lower() in seen:
            pasted.merged += 1
            for index, (known_name, known_email) in enumerate(pasted.valid):
                if known_email.lower() == email.lower() and not known_name and name:
                    pasted.valid[index] = (name, known_email)
        else:
            seen.add(email.lower())
            pasted.valid.append((name, email))
    return pasted


def pending_key(email: str) -> str:
    """The cache key of a member's pending invitations, by address (hashed: no
    address in the cache's keys). services.py drops it when they change."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"pending-invitations:{digest}"
