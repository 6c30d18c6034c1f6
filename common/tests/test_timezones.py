"""The time-zone list and check shared by profiles and parties (no database needed)."""

import pytest
from django.core.exceptions import ValidationError

from common.timezones import timezone_choices, validate_timezone


def test_choices_are_iana_names_with_readable_labels():
    choices = dict(timezone_choices())

    assert choices["Europe/Paris"] == "Europe/Paris"
    assert choices["America/Sao_Paulo"] == "America/Sao Paulo"
    assert "UTC" in choices
    assert "localtime" not in choices
    assert "Factory" not in choices


@pytest.mark.parametrize("name", ["Europe/Paris", "UTC", "Pacific/Chatham"])
def test_known_zones_pass(name):
    validate_timezone(name)


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "europe/paris", "", "Factory"])
def test_unknown_zones_are_refused_with_a_hint(name):
    with pytest.raises(ValidationError) as excinfo:
        validate_timezone(name)

    assert excinfo.value.messages == [
        f"“{name}” is not a time zone we know. Pick one from the list, e.g. Europe/Paris."
    ]


def test_a_huge_value_is_quoted_only_in_part():
    with pytest.raises(ValidationError) as excinfo:
        validate_timezone("x" * 10_000)

    assert len(excinfo.value.messages[0]) < 200
