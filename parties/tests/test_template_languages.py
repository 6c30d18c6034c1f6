"""Pages in the visitor's language (issue 23, templates): the page says which
language it is in, dates use the language's own names and order, and a fragment
cached for one language is never served to another.

Django's own catalogue already names months and weekdays in German, so these
tests hold before DinnerParty's own .po files exist. The visitor's browser asks
for the language (Accept-Language), read by Django's LocaleMiddleware."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import dateformat, translation

from accounts.tests.factories import UserFactory
from parties.cards import load_cards
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import client_for, page_text

pytestmark = pytest.mark.django_db

LOCALE_MIDDLEWARE = "django.middleware.locale.LocaleMiddleware"


@pytest.fixture(autouse=True)
def locale_middleware(settings):
    """The settings' own LocaleMiddleware where it is, else one after the sessions'.
    It leaves the last request's language active in this thread, so the default is
    put back after each test (or later tests would compute German expectations)."""
    if LOCALE_MIDDLEWARE not in settings.MIDDLEWARE:
        middleware = list(settings.MIDDLEWARE)
        at = middleware.index("django.contrib.sessions.middleware.SessionMiddleware") + 1
        settings.MIDDLEWARE = [*middleware[:at], LOCALE_MIDDLEWARE, *middleware[at:]]
    yield
    translation.deactivate()


def get_in(language: str, client: Client, url: str):
    return client.get(url, HTTP_ACCEPT_LANGUAGE=language)


def names_in(language: str, day, fmt: str) -> str:
    with translation.override(language):
        return dateformat.format(day, fmt)


def test_the_page_says_which_language_it_is_written_in():
    client = client_for(UserFactory())

    assert (
        '<html lang="en">' in get_in("en-gb", client, reverse("profile")).text
    )  # (English is one)
    assert '<html lang="de">' in get_in("de", client, reverse("profile")).text


def render_home_in(language: str, party) -> str:
    """home.html itself, past the views' whole-page cache: only the template's own
    fragment cache ({% cache %} on the cards) stands between the two languages."""
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    context = {"parties": [party], "card_ttl": 60, "cards_key": "the-same-cards"}
    with translation.override(language):
        return render_to_string("home.html", context, request=request)


def test_cards_cached_for_an_english_visitor_are_not_served_to_a_german_one():
    party = load_cards(AnonymousUser())([DinnerPartyFactory(title="Paella night").pk])[0]
    day = party.local_starts_at.date()
    english, german = names_in("en-gb", day, "D"), names_in("de", day, "D")
    assert english != german

    assert f'<div class="small">{english}</div>' in render_home_in("en-gb", party)
    german_page = render_home_in("de", party)

    assert f'<div class="small">{german}</div>' in german_page
    assert f'<div class="small">{english}</div>' not in german_page


def test_a_whole_page_cached_in_english_is_not_served_to_a_german_visitor():
    DinnerPartyFactory(title="Paella night")

    get_in("en-gb", Client(), reverse("home"))

    assert '<html lang="de">' in get_in("de", Client(), reverse("home")).text


def test_the_date_someone_joined_reads_in_their_language():
    user = UserFactory(username="ana")
    client = client_for(user)
    joined = user.date_joined

    english = page_text(get_in("en-gb", client, reverse("profile")))
    german = page_text(get_in("de", client, reverse("profile")))

    assert f"Joined {joined:%-d} {names_in('en-gb', joined, 'F')} {joined:%Y}" in english
    assert names_in("de", joined, "F") in german


def test_the_time_in_the_visitors_own_zone_is_labelled_by_the_page_not_the_script():
    party = DinnerPartyFactory(title="Paella night")

    page = Client().get(party.get_absolute_url()).text

    assert 'data-your-time="Your time: {time}"' in page


def test_the_copy_button_gets_its_words_from_the_page():
    party = DinnerPartyFactory(title="Paella night")

    page = client_for(party.host).get(party.get_absolute_url()).text

    assert 'data-copied-label="Copied!"' in page
    assert 'data-copied-status="Invite link copied to the clipboard."' in page
