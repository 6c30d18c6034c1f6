"""Invite tokens as they arrive: in an invite link's path, a page's `?invite=`
and a form's `invite` field. One reading of them for every view."""

import re

# What `new_invite_token` makes (`secrets.token_urlsafe`'s alphabet), no longer
# than the column holds.
INVITE_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def parse_invite_token(value: object) -> str:
    """The token `value` may be, or "" (no token) for anything that can't be one:
    missing, too long, or with any other character (a NUL byte, which PostgreSQL
    refuses outright; spaces, non-ASCII letters, "/")."""
    if isinstance(value, str) and INVITE_TOKEN.fullmatch(value):
        return value
    return ""
