"""Log plumbing: request ids on every line, and no invite tokens (nor email
confirmation links) in any line."""

import logging
import re

from gunicorn.glogging import Logger as GunicornLogger

from dinnerparty.middleware import request_id_var

# An invite link is a key to a private party, and an email confirmation link
# confirms an address: logs keep only their first characters.
INVITE_TOKEN = re.compile(
    r"(/parties/invite/|[?&]invite=|/accounts/email/confirm/)([^/&\s\"']{4})[^/&\s\"']*"
)


def redact(text: str) -> str:
    return INVITE_TOKEN.sub(r"\1\2…", text)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs some lines (e.g. "Not Found") after the middleware is done,
        # but hands over the request itself.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


class OneLineFormatter(logging.Formatter):
    """One line per event, tracebacks included (newlines escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n", "\\n")


class RedactFilter(logging.Filter):
    """Cuts invite tokens out of log messages (e.g. Django's "Not Found: <path>")."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class RedactingGunicornLogger(GunicornLogger):
    """Gunicorn's access log, with invite tokens cut out of the request line."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
