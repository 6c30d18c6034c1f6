import secrets

import pytest

from parties.invites import parse_invite_token
from parties.models import new_invite_token


def test_a_token_the_site_makes_is_read_as_it_is():
    for token in (new_invite_token(), secrets.token_urlsafe(16), "a-b_C9", "x" * 64):
        assert parse_invite_token(token) == token


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "\x00",
        "abc\x00",
        "x" * 65,
        "x" * 10_000,
        "café",
        "٣٣٣",
        "ｘｙｚ",  # full-width letters
        "abc def",
        "abc\n",
        "abc/def",
        "abc%00",
        "abc=",
        "<script>",
        ["abc"],
    ],
)
def test_anything_that_cannot_be_a_token_is_no_token(value):
    assert parse_invite_token(value) == ""
