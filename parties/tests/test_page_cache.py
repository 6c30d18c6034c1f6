"""Whole pages are cached per viewer (parties/page_cache.py). These prove that each
response still carries a working CSRF token of its own, that a page never shows
one viewer what belongs to another, and that every change shows at once."""

import re

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from parties import services
from parties.page_cache import LocalPages, entry_size
from parties.selectors import VIEWER_FIELDS
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import going, page_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_cache_window")]


@pytest.fixture(autouse=True, params=[0, 4_000_000], ids=["shared-cache", "and-local-memory"])
def local_pages_limit(request, settings):
    """Every test here runs with the shared cache alone and with each process's
    own memory in front of it (as with Redis: `PAGE_CACHE_LOCAL_BYTES`)."""
    settings.PAGE_CACHE_LOCAL_BYTES = request.param
    return request.param


TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PLACEHOLDER = re.compile(r"\x1fcsrf-[0-9a-f]+\x1f")
OLD_PLACEHOLDER = "\x1fcsrf-token\x1f"  # fixed, until user text could carry it


def browser(user) -> Client:
    """A browser that enforces CSRF, as a real one is held to."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def tokens(response) -> list[str]:
    return TOKEN.findall(response.content.decode())


@pytest.mark.parametrize("page", ["list", "detail"])
def test_a_cached_page_carries_a_fresh_working_token_in_every_browser(party, guest, page):
    url = reverse("parties:list") if page == "list" else party.get_absolute_url()
    first_browser, second_browser = browser(guest), browser(guest)

    first = first_browser.get(url)
    again = first_browser.get(url)
    other = second_browser.get(url)

    for response in (first, again, other):
        assert tokens(response)
        assert not PLACEHOLDER.search(response.content.decode())
    assert tokens(first)[0] != tokens(again)[0]  # masked anew for each response
    # The page the second browser got (from the cache) works in that browser.
    logout = second_browser.post(reverse("logout"), {"csrfmiddlewaretoken": tokens(other)[0]})
    assert logout.status_code == 302
    if page == "detail":
        reply = first_browser.post(
            reverse("parties:rsvp", args=[party.pk]),
            {"status": "going", "plus_ones": "0", "csrfmiddlewaretoken": tokens(again)[-1]},
        )
        assert reply.status_code == 302
        assert party.rsvps.filter(guest=guest, status="going").exists()


@pytest.mark.parametrize("page", ["list", "detail"])
def test_text_on_a_cached_page_never_turns_into_the_viewer_s_csrf_token(party, guest, page):
    # Stored before control characters were refused (forms refuse them now).
    party.title = f"Paella{OLD_PLACEHOLDER}night"
    party.save()
    going(party, UserFactory(first_name=f"Chl{OLD_PLACEHOLDER}Z"))
    url = reverse("parties:list") if page == "list" else party.get_absolute_url()
    client = browser(guest)

    for response in (client.get(url), client.get(url)):  # rendered, then cached
        html = response.content.decode()
        token = tokens(response)[0]
        assert html.count(token) == len(tokens(response))  # only in the forms
        assert f"Paella{OLD_PLACEHOLDER}night" in html
        if page == "detail":
            assert f"Chl{OLD_PLACEHOLDER}Z" in html


def test_one_viewer_never_gets_another_s_cached_page(party, guest):
    # (The menu says "Profile"; an unconfirmed address shows in the banner.)
    guest.email_confirmed_at = None
    guest.save()
    other = UserFactory(username="zed", email="zed@example.com", email_confirmed_at=None)
    browser(guest).get(reverse("parties:list"))
    browser(guest).get(party.get_absolute_url())

    for url in (reverse("parties:list"), party.get_absolute_url()):
        text = page_text(browser(other).get(url))
        assert "zed@example.com" in text
        assert guest.email not in text


def test_a_new_address_and_admin_access_show_at_once(party, guest):
    client = browser(guest)
    client.get(reverse("parties:list"))
    guest.email, guest.email_confirmed_at, guest.is_staff = "benjamin@example.com", None, True
    guest.save()

    text = page_text(client.get(reverse("parties:list")))
    assert "benjamin@example.com" in text
    assert "Admin" in text


def test_a_reply_shows_on_the_cached_party_page_at_once(party, guest):
    client = browser(guest)
    assert "You replied" not in page_text(client.get(party.get_absolute_url()))

    services.rsvp_submit(party=party, guest=guest, status="maybe")

    assert "You replied: Maybe" in page_text(client.get(party.get_absolute_url()))


def test_someone_else_s_reply_shows_on_the_cached_party_page_at_once(party, guest):
    client = browser(guest)
    client.get(party.get_absolute_url())
    going(party, UserFactory(first_name="Olga", last_name="Berg"))

    assert "Olga Berg" in page_text(client.get(party.get_absolute_url()))


def test_a_flash_message_is_shown_once_even_on_a_cached_page(party, guest):
    client = browser(guest)
    client.get(party.get_absolute_url())
    page = client.get(party.get_absolute_url())
    reply = client.post(
        reverse("parties:rsvp", args=[party.pk]),
        {"status": "maybe", "plus_ones": "0", "csrfmiddlewaretoken": tokens(page)[-1]},
        follow=True,
    )
    assert "Noted: you might come" in page_text(reply)
    assert "Noted: you might come" not in page_text(client.get(party.get_absolute_url()))


def test_the_hosts_page_is_never_served_from_the_cache(party, host):
    client = browser(host)
    client.get(party.get_absolute_url())
    guest = UserFactory(first_name="Pia", dietary_notes="no shellfish")
    going(party, guest)
    guest.dietary_notes = "no shellfish, no nuts"
    guest.save()  # a guest's diet is not part of the party's version

    assert "no shellfish, no nuts" in page_text(client.get(party.get_absolute_url()))


def test_a_new_party_shows_on_the_cached_list_at_once(guest):
    client = browser(guest)
    client.get(reverse("parties:list"))
    DinnerPartyFactory(title="Midnight ramen")

    assert "Midnight ramen" in page_text(client.get(reverse("parties:list")))


def test_the_cached_landing_page_gives_each_visitor_their_own_token_for_the_language_switcher(
    party,
):
    """The footer's language switcher is a POST form (Django's set_language, CSRF
    checked), so even the visitors' landing page carries a token: each visitor's
    own, put into the cached copy as it is served."""
    tokens = []
    for visitor in (Client(), Client()):
        first, again = visitor.get(reverse("home")), visitor.get(reverse("home"))
        for response in (first, again):
            assert "Paella night" in page_text(response)
            assert not PLACEHOLDER.search(response.content.decode())
        tokens.append(first.cookies["csrftoken"].value)
        html = again.content.decode()
        assert 'name="csrfmiddlewaretoken"' in html
    assert tokens[0] != tokens[1]


TEMPLATES_DIR = django_settings.BASE_DIR / "templates"


def test_every_viewer_field_that_a_cached_page_shows_is_in_its_key():
    """base.html and the pages cached whole (the landing page, the list and the
    party page, with what they include) show the viewer only through
    `VIEWER_FIELDS`, which every cached page's key is made of."""
    templates = [
        TEMPLATES_DIR / "base.html",
        TEMPLATES_DIR / "home.html",
        *(TEMPLATES_DIR / "parties").rglob("*.html"),
    ]
    shown = {
        field
        for template in templates
        for field in re.findall(r"\buser\.(\w+)", template.read_text())
    }

    assert "is_staff" in shown
    assert shown - {"is_authenticated"} <= set(VIEWER_FIELDS)


# A base.html that shows everything about the viewer a template might.
VIEWER_BASE_HTML = """<p>first_name={{ user.first_name }} last_name={{ user.last_name }}
display_name={{ user.display_name }} username={{ user.username }}
is_staff={{ user.is_staff }} is_superuser={{ user.is_superuser }}
timezone={{ user.timezone }} diets={{ user.diets|join:"," }}
allergies={{ user.allergies|join:"," }}</p>
<form method="post">{% csrf_token %}</form>{% block content %}{% endblock %}"""


@pytest.fixture
def base_html_showing_the_viewer(settings, tmp_path):
    (tmp_path / "base.html").write_text(VIEWER_BASE_HTML)
    engine = {**settings.TEMPLATES[0]}
    engine["DIRS"] = [tmp_path, *engine["DIRS"]]
    settings.TEMPLATES = [engine]


@pytest.mark.parametrize("page", ["list", "detail"])
@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("first_name", "Benedikt", "first_name=Benedikt"),
        ("last_name", "Okonkwo-Lee", "display_name=Ben Okonkwo-Lee"),  # not a Faker name
        ("username", "benny", "username=benny"),
        ("is_staff", True, "is_staff=True"),
        ("is_superuser", True, "is_superuser=True"),
        ("timezone", "Asia/Tokyo", "timezone=Asia/Tokyo"),
        ("diets", ["vegan"], "diets=vegan"),
        ("allergies", ["peanuts"], "allergies=peanuts"),
    ],
)
def test_a_change_to_anything_base_html_shows_of_the_viewer_shows_on_a_cached_page_at_once(
    base_html_showing_the_viewer, party, guest, page, field, value, shown
):
    url = reverse("parties:list") if page == "list" else party.get_absolute_url()
    client = browser(guest)
    client.get(url)
    assert client.get(url).context is None  # served from the cache
    assert shown not in page_text(client.get(url))

    # (Not save(): a renamed guest moves their parties' versions on, see signals.py.)
    User.objects.filter(pk=guest.pk).update(**{field: value})

    assert shown in page_text(client.get(url))


# --- each process's own memory in front of the shared cache ------------------------


def test_with_local_memory_a_page_asked_for_again_needs_no_shared_cache(local_pages_limit):
    visitor = Client()
    first = visitor.get("/")
    cache.clear()  # as if another process's Redis entry were all there was, then gone

    again = visitor.get("/")

    assert first.templates  # rendered once
    # From this process's memory when it keeps pages; rendered anew when it doesn't.
    assert bool(again.templates) == (local_pages_limit == 0)
    assert page_text(again) == page_text(first)


def test_with_local_memory_a_change_still_shows_at_once(host, local_pages_limit):
    party = DinnerPartyFactory(host=host, title="Soup night", visibility="public")
    visitor = Client()
    assert "Soup night" in page_text(visitor.get("/"))

    services.party_update(party=party, changes={"title": "Stew night"})

    assert "Stew night" in page_text(visitor.get("/"))


def test_local_memory_keeps_the_latest_pages_within_its_limit(settings):
    pages = LocalPages()
    entry = ("slot", "x" * 1000)
    settings.PAGE_CACHE_LOCAL_BYTES = 3 * entry_size(entry)
    for key in ["a", "b", "c", "d"]:
        pages.put(key, entry)

    assert pages.get("a") is None  # the oldest made room
    assert [pages.get(key) for key in ["b", "c", "d"]] == [entry] * 3
    pages.put("huge", ("slot", "x" * 10_000))  # larger than the whole limit: not kept
    assert pages.get("huge") is None
    assert pages.get("d") == entry
    settings.PAGE_CACHE_LOCAL_BYTES = 0
    assert pages.get("d") is None  # off
