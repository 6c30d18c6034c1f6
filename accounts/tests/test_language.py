"""Issue 23: the language a person reads the site and their emails in.

Visitors choose with the footer's switcher (Django's `set_language`: a cookie) or
their browser's Accept-Language; members have theirs on their profile, which the
switcher also saves and which beats the browser. (Until the translations are
written the pages read English in every language, so these tests look at what
the site says it speaks: the Content-Language header and the active language.)
"""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import register_data
from accounts.tests.test_views import profile_data

pytestmark = pytest.mark.django_db

SWITCH = reverse("set_language")
LANGUAGE_COOKIE = settings.LANGUAGE_COOKIE_NAME


def page_language(client: Client, path: str = "/", **headers) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    assert response["Content-Language"] == response.wsgi_request.LANGUAGE_CODE
    return response["Content-Language"]


# --- Visitors ------------------------------------------------------------------------


def test_a_visitor_gets_the_language_their_browser_asks_for(client):
    assert page_language(client, **{"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}) == "de"
    assert page_language(client, **{"Accept-Language": "pt-BR"}) == "pt"


def test_a_visitor_whose_browser_asks_for_a_language_we_lack_reads_english(client):
    assert page_language(client, **{"Accept-Language": "ja"}) == "en"


def test_the_switcher_sets_a_cookie_that_the_next_page_speaks(client):
    response = client.post(SWITCH, {"language": "fr", "next": "/parties/"})

    assert response.status_code == 302
    assert response["Location"] == "/parties/"
    assert response.cookies[LANGUAGE_COOKIE].value == "fr"
    assert (
        page_language(client, **{"Accept-Language": "de"}) == "fr"
    )  # the choice beats the browser


def test_the_switcher_refuses_to_send_anyone_to_another_site(client):
    for hostile in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(SWITCH, {"language": "de", "next": hostile})
        assert response.status_code == 302
        assert "evil" not in response["Location"]
        assert not response["Location"].startswith("javascript")


def test_the_switcher_is_post_only(client):
    response = client.get(SWITCH, {"language": "de", "next": "/"})

    assert response.status_code == 405
    assert LANGUAGE_COOKIE not in response.cookies


def test_the_switcher_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)

    response = client.post(SWITCH, {"language": "de", "next": "/"})

    assert response.status_code == 403


@pytest.mark.parametrize("language", ["", "xx", "de" * 200, "../../etc", "<script>", "de\x00"])
def test_the_switcher_ignores_a_language_we_do_not_speak(client, language):
    response = client.post(SWITCH, {"language": language, "next": "/"})

    assert response.status_code == 302
    assert LANGUAGE_COOKIE not in response.cookies


def test_the_footer_switcher_include_is_a_plain_post_form_without_script(client):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    request = RequestFactory().get("/parties/?page=2")
    html = render_to_string("includes/language_switcher.html", request=request)

    assert f'action="{SWITCH}"' in html
    assert 'method="post"' in html
    assert "csrfmiddlewaretoken" in html
    # The path alone: a page cached for every visitor keys on it, not the query string.
    assert 'name="next" value="/parties/"' in html
    assert "<script" not in html
    assert " on" not in html.replace(" one", "")  # no inline event handlers (CSP)
    for code, _ in settings.LANGUAGES:
        assert f'value="{code}"' in html
    assert "Deutsch" in html  # each language by its own name


# --- Members -----------------------------------------------------------------------


def test_a_member_s_saved_language_beats_their_browser_and_cookie(client):
    member = UserFactory(language="es")
    client.force_login(member)
    client.cookies[LANGUAGE_COOKIE] = "fr"

    assert page_language(client, **{"Accept-Language": "de"}) == "es"


def test_a_member_without_a_saved_language_follows_their_browser(client):
    client.force_login(UserFactory(language=""))

    assert page_language(client, **{"Accept-Language": "de"}) == "de"


def test_the_switcher_saves_a_member_s_choice_and_it_survives_logout_and_login():
    member = UserFactory(username="lena", language="")
    client = Client()
    client.force_login(member)

    client.post(SWITCH, {"language": "de", "next": "/"})
    member.refresh_from_db()
    assert member.language == "de"

    client.post(reverse("logout"))
    other_browser = Client()
    other_browser.post(reverse("login"), {"username": "lena", "password": DEFAULT_PASSWORD})
    assert page_language(other_browser, **{"Accept-Language": "en"}) == "de"


def test_switching_to_the_language_already_saved_writes_nothing(client, django_assert_num_queries):
    member = UserFactory(language="de")
    client.force_login(member)
    client.get("/")  # (the session's first save)

    # The session and user, and no UPDATE of the user.
    with django_assert_num_queries(1):
        client.post(SWITCH, {"language": "de", "next": "/"})


def test_a_visitor_s_switch_saves_nothing_on_any_account(client):
    member = UserFactory(language="")

    client.post(SWITCH, {"language": "pt", "next": "/"})

    member.refresh_from_db()
    assert member.language == ""


def test_signing_up_takes_the_browser_s_language(client):
    client.post(reverse("register"), register_data(), headers={"Accept-Language": "fr-CA,fr;q=0.8"})

    assert User.objects.get(username="bruno").language == "fr"


def test_signing_up_after_switching_takes_the_switcher_s_language(client):
    client.post(SWITCH, {"language": "pt", "next": "/"})
    client.post(reverse("register"), register_data(), headers={"Accept-Language": "de"})

    assert User.objects.get(username="bruno").language == "pt"


def test_signing_up_with_a_browser_language_we_lack_saves_english(client):
    client.post(reverse("register"), register_data(), headers={"Accept-Language": "ja"})

    assert User.objects.get(username="bruno").language == "en"


# --- The profile's language field ----------------------------------------------------


def test_the_profile_saves_a_language(user_client, user):
    response = user_client.post(reverse("profile"), profile_data(language="pt"))

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "pt"


def test_the_profile_takes_an_empty_language_as_follow_the_browser(user_client, user):
    User.objects.filter(pk=user.pk).update(language="de")

    user_client.post(reverse("profile"), profile_data(language=""))

    user.refresh_from_db()
    assert user.language == ""


@pytest.mark.parametrize(
    "hostile", ["xx", "de" * 100, "123", "<script>alert(1)</script>", "de\x00", "' OR 1=1 --"]
)
def test_the_profile_refuses_a_language_we_do_not_speak(user_client, user, hostile):
    response = user_client.post(reverse("profile"), profile_data(language=hostile))

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    user.refresh_from_db()
    assert user.language == ""


def test_the_profile_page_offers_every_language(user_client):
    html = user_client.get(reverse("profile")).content.decode()

    assert 'name="language"' in html
    for code, _ in settings.LANGUAGES:
        assert f'value="{code}"' in html


# --- Queries ----------------------------------------------------------------------


def test_a_member_s_language_costs_no_query(client, django_assert_num_queries):
    from parties.tests.test_query_counts import LIST_QUERIES, PROFILE_QUERIES

    client.force_login(UserFactory(language="de"))
    client.get(reverse("parties:list"))  # (the session's first save)

    with django_assert_num_queries(LIST_QUERIES):
        assert client.get(reverse("parties:list"))["Content-Language"] == "de"
    with django_assert_num_queries(PROFILE_QUERIES):
        assert client.get(reverse("profile"))["Content-Language"] == "de"


def test_a_visitor_s_language_costs_no_query(client, django_assert_num_queries):
    client.cookies[LANGUAGE_COOKIE] = "de"

    with django_assert_num_queries(0):
        assert client.get(reverse("login"))["Content-Language"] == "de"
