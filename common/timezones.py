"""IANA time zones, shared by user profiles and parties.

The list people pick from holds the canonical zones only: those the tz database
names for a country or region in `zone.tab`, plus UTC. Its backward-compatible
aliases (`Africa/Asmera`, `Asia/Calcutta`, `US/Eastern`, …) are not offered, but
are understood: a browser that still reports one, or a value stored before,
stands for the zone it links to (the `L` lines of `tzdata.zi`). Both files come
with the `tzdata` package, the same data `zoneinfo` reads.
"""

import zoneinfo
from datetime import datetime, timedelta
from functools import cache, lru_cache
from importlib import resources

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

UTC_NAME = "UTC"
# Targets of links that all mean UTC (`GMT`, `Etc/UTC`, `Zulu`, …).
UTC_EQUIVALENTS = {"Etc/UTC", "Etc/GMT", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "Etc/Greenwich"}


def _tzdata_lines(name: str) -> list[str]:
    text = resources.files("tzdata.zoneinfo").joinpath(name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@cache
def canonical_zones() -> frozenset[str]:
    """Every zone offered: those of `zone.tab` that zoneinfo knows, and UTC."""
    listed = {line.split("\t")[2] for line in _tzdata_lines("zone.tab")}
    return frozenset(listed & zoneinfo.available_timezones()) | {UTC_NAME}


@cache
def _links() -> dict[str, str]:
    """Alias → the zone it stands for (`L target alias` in tzdata.zi)."""
    links = {}
    for line in _tzdata_lines("tzdata.zi"):
        if line.startswith("L "):
            _kind, target, alias = line.split()
            links[alias] = target
    return links


def canonical_zone(name: str) -> str | None:
    """The canonical zone `name` stands for (itself, or what an alias links
    to), or None when it is no zone we offer."""
    if name in canonical_zones():
        return name
    target = _links().get(name, name)
    if target in UTC_EQUIVALENTS:
        return UTC_NAME
    return target if target in canonical_zones() else None


def default_zone() -> str:
    """The zone of a new account or party when nothing better is known."""
    return canonical_zone(settings.TIME_ZONE) or UTC_NAME


def _offset_label(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def zone_label(name: str, *, at: datetime | None = None) -> str:
    """ "Buenos Aires, Argentina (UTC-03:00)": the place, then the offset at `at`."""
    if name == UTC_NAME:
        return UTC_NAME
    offset = (at or timezone.now()).astimezone(zoneinfo.ZoneInfo(name)).utcoffset()
    place = ", ".join(reversed(name.split("/")[1:])).replace("_", " ")
    return f"{place} ({_offset_label(offset)})"


@lru_cache(maxsize=2)
def _grouped_choices(hour: datetime) -> list:
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(canonical_zones() - {UTC_NAME}):
        groups.setdefault(name.split("/")[0], []).append((name, zone_label(name, at=hour)))
    return [
        (UTC_NAME, zone_label(UTC_NAME, at=hour)),
        *((region, sorted(zones, key=lambda zone: zone[1])) for region, zones in groups.items()),
    ]


def timezone_choices() -> list:
    """The canonical zones grouped by region (`<optgroup>`), each labelled with
    its place and current UTC offset; UTC first. Recomputed every hour, as
    offsets move with daylight saving time."""
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    return _grouped_choices(hour)


def validate_timezone(value: str) -> None:
    if value not in canonical_zones():
        raise ValidationError(
            _("“%(value)s” is not a time zone we know. Pick one from the list, e.g. Europe/Paris."),
            code="invalid_timezone",
            params={"value": value[:64]},
        )


class TimeZoneField(forms.ChoiceField):
    """A picker of the canonical zones. A stored alias is shown as the zone it
    stands for, and one that is posted (an old bookmark, a script) is taken as
    that zone."""

    def __init__(self, **kwargs):
        super().__init__(choices=timezone_choices, **kwargs)

    def prepare_value(self, value):
        return (canonical_zone(value) or value) if isinstance(value, str) else value

    def to_python(self, value) -> str:
        value = super().to_python(value)
        return (canonical_zone(value) or value) if value else value


class BrowserTimeZoneField(forms.CharField):
    """The zone the browser reports (`static/js/timezone.js` fills this hidden
    field from `Intl.DateTimeFormat().resolvedOptions().timeZone`). Anything that
    is no zone we know — no script, an old browser, a forged value — falls back
    to the default zone: the person can't see this field, so it never refuses."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs["data-browser-timezone"] = ""

    def to_python(self, value) -> str:
        value = super().to_python(value)
        return (canonical_zone(value[:64]) if value else None) or default_zone()
