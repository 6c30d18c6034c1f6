"""The preview a visitor who is not logged in sees behind an invite link (and on
a public party's own page): enough to decide, never the address or the guests."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from parties import services
from parties.models import Visibility
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import going, page_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_cache_window")]


@pytest.fixture
def private_party(host):
    party = DinnerPartyFactory(
        host=host,
        title="Secret supper",
        visibility=Visibility.PRIVATE,
        hide_address=True,
        venue="12 Rue des Lilas, Paris",
        area="Belleville, Paris",
        main_dish="Coq au vin",
        seats=4,
    )
    guest = UserFactory(first_name="Zoé", last_name="Guestname", dietary_notes="no nuts")
    services.rsvp_submit(
        party=party, guest=guest, status="going", plus_ones=1, note="I bring the cheese"
    )
    services.dish_add(party=party, cook=host, course="dessert", name="Tarte Tatin")
    return party


def invite_url(party) -> str:
    return reverse("parties:invite", args=[party.invite_token])


def test_a_visitor_sees_the_preview_behind_the_invite_link(private_party):
    response = Client().get(invite_url(private_party))

    assert response.status_code == 200
    text = page_text(response)
    assert "Secret supper" in text
    assert "Hosted by Ana" in text
    assert private_party.when in text
    assert "Belleville, Paris" in text
    assert "Coq au vin" in text
    assert "Tarte Tatin" in text
    assert "2 of 4 seats left" in text
    assert "2 guests so far, plus-ones included" in text
    assert 'name="email"' in response.content.decode()


def test_the_preview_never_shows_the_address_guests_notes_or_diets(private_party):
    markup = Client().get(invite_url(private_party)).content.decode()

    for secret in ("Rue des Lilas", "Zoé", "Guestname", "cheese", "no nuts"):
        assert secret not in markup


def test_a_public_partys_own_page_shows_visitors_the_preview(host):
    party = DinnerPartyFactory(host=host, title="Open table", venue="1 Main Street", area="")
    response = Client().get(party.get_absolute_url())

    assert response.status_code == 200
    text = page_text(response)
    assert "Open table" in text
    assert "1 Main Street" not in text
    assert "Address shared with guests at the table" in text
    assert 'name="invite"' not in response.content.decode()


def test_a_private_partys_own_page_still_asks_visitors_to_log_in(private_party):
    url = private_party.get_absolute_url()
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("token", ["wrong-token", "x" * 65, "bad%20token", "%00"])
def test_a_wrong_invite_token_is_a_404_for_visitors(private_party, token):
    assert Client().get(f"/parties/invite/{token}/").status_code == 404


def test_a_regenerated_invite_link_is_a_404_for_visitors(private_party):
    old = invite_url(private_party)
    services.regenerate_invite(party=private_party)
    assert Client().get(old).status_code == 404


def test_a_full_party_says_the_waitlist_is_open(host):
    party = DinnerPartyFactory(host=host, seats=1, visibility=Visibility.PRIVATE)
    going(party, UserFactory())
    text = page_text(Client().get(invite_url(party)))
    assert "Full — waitlist open" in text
    assert "1 guest so far" in text


def test_a_party_that_has_started_takes_no_replies(host):
    party = DinnerPartyFactory(host=host, visibility=Visibility.PRIVATE)
    party.starts_at = timezone.now() - timedelta(minutes=5)
    party.save()
    response = Client().get(invite_url(party))
    assert "replies are closed" in page_text(response)
    assert 'name="email"' not in response.content.decode()


def test_the_preview_carries_open_graph_and_twitter_tags(private_party, settings):
    settings.SITE_URL = "https://dinner.example.com"
    markup = Client().get(invite_url(private_party)).content.decode()

    def meta(attribute: str, name: str) -> str:
        found = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)"', markup)
        assert found, name
        return found.group(1)

    assert meta("property", "og:title") == "Secret supper"
    description = meta("property", "og:description")
    assert "Belleville, Paris" in description
    assert "Rue des Lilas" not in description
    assert meta("property", "og:url") == f"https://dinner.example.com{invite_url(private_party)}"
    image = meta("property", "og:image")
    assert image.startswith("https://dinner.example.com/static/img/og-invite")
    assert image.endswith(".png")
    assert meta("name", "twitter:card") == "summary_large_image"
    assert meta("name", "twitter:image") == image


def test_the_visitors_own_time_comes_from_a_static_script(private_party):
    markup = Client().get(invite_url(private_party)).content.decode()
    assert 'data-zone="Europe/Paris"' in markup
    assert re.search(r'<script src="/static/js/local-time[^"]*\.js" defer></script>', markup)
    assert "<script>" not in markup  # nothing inline: the CSP allows none


# The access check (which also gives the page's version), the party with its host,
# and its dishes, slots and messages when their cache is cold.
PREVIEW_QUERIES = 5
PREVIEW_QUERIES_CACHED = 1  # the access check alone: no session, no party


@pytest.mark.parametrize("size", [1, 30])
def test_the_preview_is_cached_for_visitors_with_a_fixed_number_of_queries(
    host, size, django_assert_max_num_queries, django_assert_num_queries
):
    party = DinnerPartyFactory(host=host, seats=size, visibility=Visibility.PRIVATE)
    for i in range(size):
        going(party, UserFactory())
        services.dish_add(party=party, cook=host, course="starter", name=f"Dish {i}")
    url = invite_url(party)

    with django_assert_max_num_queries(PREVIEW_QUERIES):
        first = Client().get(url)
    assert first.status_code == 200
    with django_assert_num_queries(PREVIEW_QUERIES_CACHED):
        again = Client().get(url)
    assert again.status_code == 200
    assert again.context is None  # from the cache
    assert f"Dish {size - 1}" in page_text(again)


def test_a_reply_moves_the_cached_preview_on(private_party):
    url = invite_url(private_party)
    assert "2 of 4 seats left" in page_text(Client().get(url))
    going(private_party, UserFactory())
    assert "1 of 4 seats left" in page_text(Client().get(url))


def test_a_member_still_gets_the_party_page_through_the_link(private_party, guest_client):
    response = guest_client.get(invite_url(private_party))
    assert response.status_code == 200
    assert "parties/dinnerparty_detail.html" in [t.name for t in response.templates]


# --- the reply-by date (issue 20, item 4 on the preview) -----------------------------


def test_the_preview_says_when_to_reply_by(private_party):
    private_party.reply_by = private_party.starts_at - timedelta(days=2)
    private_party.save()

    text = page_text(Client().get(invite_url(private_party)))

    assert f"Reply by {private_party.reply_by_text}" in text
    assert re.fullmatch(r"\w{3} \d{1,2} \w{3}, \d\d:\d\d CES?T", private_party.reply_by_text)


def test_a_public_partys_page_tells_visitors_the_reply_by_date_too(host):
    party = DinnerPartyFactory(host=host, visibility=Visibility.PUBLIC)
    party.reply_by = party.starts_at - timedelta(days=1)
    party.save()

    text = page_text(Client().get(party.get_absolute_url()))

    assert f"Reply by {party.reply_by_text}" in text


def test_without_a_reply_by_date_the_preview_names_none(private_party):
    assert "Reply by" not in page_text(Client().get(invite_url(private_party)))


def test_after_the_reply_by_date_the_preview_says_replies_closed_and_offers_no_form(
    private_party,
):
    url = invite_url(private_party)
    Client().get(url)  # a cached copy from before the deadline
    reply_by = timezone.now() - timedelta(minutes=1)
    type(private_party).objects.filter(pk=private_party.pk).update(reply_by=reply_by)
    private_party.reply_by = reply_by

    response = Client().get(url)

    text = page_text(response)
    assert f"Replies closed on {private_party.reply_by_text}." in text
    assert "Reply by" not in text
    assert 'name="email"' not in response.content.decode()


def test_a_reply_sent_after_the_reply_by_date_is_refused_and_nothing_kept(
    private_party, mailoutbox
):
    from parties.models import PendingReply

    type(private_party).objects.filter(pk=private_party.pk).update(
        reply_by=timezone.now() - timedelta(minutes=1)
    )
    response = Client().post(
        reverse("parties:guest_reply", args=[private_party.pk]),
        {
            "invite": private_party.invite_token,
            "name": "Late Larry",
            "email": "larry@example.com",
            "status": "going",
            "plus_ones": 0,
            "note": "",
        },
        follow=True,
    )

    assert "Replies to this party are closed." in page_text(response)
    assert not PendingReply.objects.exists()
    assert mailoutbox == []


# --- the cached preview (issue 20, item 7) -------------------------------------------


def test_one_visitors_rejected_reply_never_reaches_the_next_visitors_cached_preview(
    private_party,
):
    url = invite_url(private_party)
    Client().get(url)  # cached
    rejected = Client().post(
        reverse("parties:guest_reply", args=[private_party.pk]),
        {
            "invite": private_party.invite_token,
            "name": "Mallory Secret",
            "email": "not-an-address",
            "status": "going",
            "plus_ones": 0,
        },
    )
    assert rejected.status_code == 400
    assert "Mallory Secret" in rejected.content.decode()

    next_visitor = Client().get(url).content.decode()

    assert "Mallory Secret" not in next_visitor
    assert "not-an-address" not in next_visitor


def test_each_visitor_of_the_cached_preview_gets_a_csrf_token_of_their_own(private_party):
    url = invite_url(private_party)
    first, second = Client(), Client()

    def token(client) -> str:
        markup = client.get(url).content.decode()
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', markup).group(1)

    assert token(first) != token(second)
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value


def test_a_host_editing_the_party_moves_the_cached_preview_on(private_party):
    url = invite_url(private_party)
    assert "Secret supper" in page_text(Client().get(url))

    services.party_update(party=private_party, changes={"title": "Open supper"})

    text = page_text(Client().get(url))
    assert "Open supper" in text
    assert "Secret supper" not in text
