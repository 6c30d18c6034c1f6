"""The time-zone list and check shared by profiles and parties (no database needed)."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from common.timezones import (
    BrowserTimeZoneField,
    TimeZoneField,
    canonical_zone,
    timezone_choices,
    validate_timezone,
    zone_label,
)

ALIASES = ["Africa/Asmera", "Africa/Timbuktu", "Asia/Calcutta", "Europe/Kiev", "US/Eastern"]


def offered() -> dict[str, str]:
    """Every zone offered, with its label, whatever group it is in."""
    names: dict[str, str] = {}
    for value, label in timezone_choices():
        if isinstance(label, list | tuple):
            names.update(label)
        else:
            names[value] = label
    return names


def test_utc_comes_first_then_the_zones_grouped_by_region():
    choices = timezone_choices()

    assert choices[0] == ("UTC", "UTC")
    regions = [region for region, _zones in choices[1:]]
    assert regions == sorted(regions)
    assert {"Africa", "America", "Asia", "Europe", "Pacific"} <= set(regions)
    europe = dict(dict(choices[1:])["Europe"])
    assert "Europe/Paris" in europe
    assert all(name.startswith("Europe/") for name in europe)


@pytest.mark.parametrize("alias", [*ALIASES, "localtime", "Factory", "GMT", "Etc/GMT+5"])
def test_backward_compatible_aliases_are_not_offered(alias):
    assert alias not in offered()


def test_canonical_zones_of_every_country_are_offered():
    names = offered()

    for name in ("Africa/Asmara", "Asia/Kolkata", "Europe/Kyiv", "America/New_York", "UTC"):
        assert name in names
    assert 400 < len(names) < 450


def test_labels_name_the_place_and_its_offset_at_that_moment():
    winter, summer = datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 7, 15, tzinfo=UTC)

    assert zone_label("Europe/Paris", at=winter) == "Paris (UTC+01:00)"
    assert zone_label("Europe/Paris", at=summer) == "Paris (UTC+02:00)"
    assert zone_label("America/Sao_Paulo", at=summer) == "Sao Paulo (UTC-03:00)"
    assert zone_label("Asia/Kolkata", at=winter) == "Kolkata (UTC+05:30)"
    assert (
        zone_label("America/Argentina/Buenos_Aires", at=winter)
        == "Buenos Aires, Argentina (UTC-03:00)"
    )


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("US/Eastern", "America/New_York"),
        ("GMT", "UTC"),
        ("Etc/UTC", "UTC"),
        ("Europe/Paris", "Europe/Paris"),
        ("Etc/GMT+5", None),
        ("Mars/Olympus_Mons", None),
        ("", None),
    ],
)
def test_an_alias_stands_for_the_zone_it_links_to(name, canonical):
    assert canonical_zone(name) == canonical


@pytest.mark.parametrize("name", ["Europe/Paris", "UTC", "Pacific/Chatham", "Asia/Kolkata"])
def test_known_zones_pass(name):
    validate_timezone(name)


@pytest.mark.parametrize(
    "name", ["Mars/Olympus_Mons", "europe/paris", "", "Factory", "Africa/Asmera"]
)
def test_unknown_zones_and_aliases_are_refused_with_a_hint(name):
    with pytest.raises(ValidationError) as excinfo:
        validate_timezone(name)

    assert excinfo.value.messages == [
        f"“{name}” is not a time zone we know. Pick one from the list, e.g. Europe/Paris."
    ]


def test_a_huge_value_is_quoted_only_in_part():
    with pytest.raises(ValidationError) as excinfo:
        validate_timezone("x" * 10_000)

    assert len(excinfo.value.messages[0]) < 200


def test_the_picker_takes_an_alias_as_the_zone_it_stands_for():
    field = TimeZoneField()

    assert field.clean("Asia/Calcutta") == "Asia/Kolkata"
    assert field.prepare_value("Africa/Asmera") == "Africa/Nairobi"
    with pytest.raises(ValidationError):
        field.clean("Mars/Olympus_Mons")


@pytest.mark.parametrize(
    ("posted", "zone"),
    [
        ("Asia/Tokyo", "Asia/Tokyo"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("", "UTC"),
        ("Mars/Olympus_Mons", "UTC"),
        ("x" * 10_000, "UTC"),
        ("Europe/Paris\x00", "UTC"),
        ("<script>alert(1)</script>", "UTC"),
    ],
)
def test_the_browsers_zone_is_taken_when_we_know_it_else_the_default(settings, posted, zone):
    settings.TIME_ZONE = "UTC"

    assert BrowserTimeZoneField().clean(posted) == zone


def test_the_browsers_zone_falls_back_to_the_configured_default(settings):
    settings.TIME_ZONE = "Europe/Berlin"

    assert BrowserTimeZoneField().clean("nowhere") == "Europe/Berlin"
