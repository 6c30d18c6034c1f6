"""The main pages in German, French, Spanish and Portuguese leave no English behind
(issue 23): each page, rendered for a visitor or member who chose the language, is
scanned for the English text of every message its catalogue translates.

Only messages a reader would recognise as English sentences are looked for: at
least two words and ten characters, no placeholders or markup, and a translation
that differs from the English (a German "Name" is still "Name")."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from ops.i18n_check import PLACEHOLDER, messages, parse_po
from parties import services
from parties.models import RSVPStatus, Visibility
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import client_for, spaced_text

pytestmark = pytest.mark.django_db

LANGUAGES = ["de", "fr", "es", "pt"]


def english_sentences(language: str) -> list[str]:
    """The English of the catalogue's messages that a page must not show in `language`."""
    path = Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po"
    found = []
    for entry in messages(parse_po(path.read_text())):
        english = entry.msgid
        translated = entry.msgstr.get(0, "")
        if (
            entry.msgid_plural
            or not translated
            or translated == english
            or PLACEHOLDER.search(english)
            or "<" in english
            or len(english) < 10
            or len(english.split()) < 2
        ):
            continue
        found.append(english)
    return found


@pytest.fixture
def world():
    """A host with a public party, a guest going to it, and a visitor."""
    host = UserFactory(username="ana", first_name="Ana")
    party = DinnerPartyFactory(
        host=host, title="Paella", main_dish="Paella", description="", visibility=Visibility.PUBLIC
    )
    guest = UserFactory(username="ben", first_name="Ben")
    services.rsvp_submit(party=party, guest=guest, status=RSVPStatus.GOING)
    return host, party, guest


def pages(world) -> list[tuple[str, str]]:
    """(who, url): the pages a visitor, a guest and a host open most."""
    host, party, guest = world
    return [
        ("visitor", reverse("home")),
        ("visitor", reverse("login")),
        ("visitor", reverse("register")),
        ("visitor", reverse("parties:invite", args=[party.invite_token])),
        ("guest", reverse("parties:list")),
        ("guest", party.get_absolute_url()),
        ("guest", reverse("profile")),
        ("host", party.get_absolute_url()),
        ("host", reverse("parties:create")),
    ]


def client_in(language: str, who: str, world) -> Client:
    host, _party, guest = world
    if who == "visitor":
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language  # the footer's choice
        return client
    member = host if who == "host" else guest
    member.language = language
    member.save(update_fields=["language"])
    return client_for(member)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_main_pages_leave_no_english_behind(language, world):
    sentences = english_sentences(language)
    assert len(sentences) > 100  # the catalogue is there and translated
    left = []
    for who, url in pages(world):
        response = client_in(language, who, world).get(url)
        assert response.status_code == 200, (who, url)
        assert f'<html lang="{language}"' in response.content.decode()
        text = spaced_text(response)
        left += [
            f"{who} {url}: “{english}”"
            for english in sentences
            if re.search(rf"(?<!\w){re.escape(english)}(?!\w)", text)
        ]
    assert not left, "English left on the page:\n" + "\n".join(left)
