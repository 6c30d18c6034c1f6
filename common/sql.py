"""Constants written into a statement's text instead of sent as parameters."""

import re

from django.db.models import CharField
from django.db.models.expressions import RawSQL


def constant(value: str) -> RawSQL:
    """`value`, a fixed word of the code's own (never user input), quoted into
    the SQL: for a condition that must match a partial index's.

    With server-side binding (PostgreSQL, settings.py) every value is a
    parameter, and a prepared statement's generic plan is made without knowing
    them: `email <> $3` might be anything, so a partial index on `email <> ''`
    (or `status = 'READY'`) cannot serve it, and PostgreSQL reads the whole table
    once the statement is prepared. Written as `email <> ''`, it matches."""
    if not re.fullmatch(r"\w*", value, flags=re.ASCII):
        raise ValueError(f"not a plain word: {value!r}")
    return RawSQL(f"'{value}'", (), output_field=CharField())  # noqa: S611 (a checked word)
