"""IANA time zones, shared by user profiles and parties."""

import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError


@cache
def timezone_choices() -> list[tuple[str, str]]:
    names = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
    return [(name, name.replace("_", " ")) for name in names]


def validate_timezone(value: str) -> None:
    if value not in {name for name, _label in timezone_choices()}:
        raise ValidationError(
            "“%(value)s” is not a time zone we know. Pick one from the list, e.g. Europe/Paris.",
            code="invalid_timezone",
            params={"value": value[:64]},
        )
