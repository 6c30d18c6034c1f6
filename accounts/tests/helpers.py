"""Small helpers shared by the accounts tests."""

import html

from django.http import HttpResponse

from accounts.tests.factories import DEFAULT_PASSWORD


def page_text(response: HttpResponse) -> str:
    """The page as a user reads it: entities decoded, typographic apostrophes plain."""
    return html.unescape(response.content.decode()).replace("\u2019", "'")


def register_data(**overrides: str) -> dict[str, str]:
    data = {
        "username": "bruno",
        "email": "bruno@example.com",
        "password1": DEFAULT_PASSWORD,
        "password2": DEFAULT_PASSWORD,
    }
    data.update(overrides)
    return data
