"""bench.endpoints' invitation endpoints (issue 20): the anonymous invite preview,
and a guest's reply through its emailed link, whose single-use links each window
takes fresh from a pool bench.prepare makes."""

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from bench import load
from bench.endpoints import (
    LINKS_PER_SECOND,
    PAIRED,
    LinkPool,
    build_requests,
    links_needed,
)
from bench.load import Side, measure, warm
from parties.models import RSVP, PendingReply, Visibility
from parties.tests.factories import DinnerPartyFactory

PREVIEW = next(e for e in PAIRED if e.name == "preview")
REPLY_LINK = next(e for e in PAIRED if e.name == "reply-link")
LOGIN_CSRF = ({"csrftoken": "cookie-secret"}, "form-token")


def pool(count: int) -> LinkPool:
    return LinkPool([f"/parties/1/reply/link-{number}/" for number in range(count)])


def test_the_preview_is_an_anonymous_get_of_the_invite_link():
    (request,) = build_requests(PREVIEW, {"preview_path": "/parties/invite/abc/"}, {}, LOGIN_CSRF)

    assert (request.method, request.path, request.headers) == ("GET", "/parties/invite/abc/", {})
    assert (PREVIEW.expect, PREVIEW.auth, PREVIEW.single_use) == (200, False, False)


def test_each_window_of_replies_by_link_gets_links_no_other_window_had():
    prep = {"reply_link_pool": pool(10 * LINKS_PER_SECOND)}

    first = build_requests(REPLY_LINK, prep, {}, LOGIN_CSRF, window=2)
    second = build_requests(REPLY_LINK, prep, {}, LOGIN_CSRF, window=2)

    assert len(first) == len(second) == 2 * LINKS_PER_SECOND
    assert not {r.path for r in first} & {r.path for r in second}
    request = first[0]
    assert request.method == "POST"
    assert request.headers["Cookie"] == "csrftoken=cookie-secret"
    assert request.body == "csrfmiddlewaretoken=form-token"
    assert (REPLY_LINK.expect, REPLY_LINK.auth, REPLY_LINK.single_use) == (302, False, True)


def test_a_pool_run_dry_starts_over_so_the_used_links_show_as_errors():
    links = pool(3)
    assert links.take(2) == ["/parties/1/reply/link-0/", "/parties/1/reply/link-1/"]
    assert links.take(2) == ["/parties/1/reply/link-2/", "/parties/1/reply/link-0/"]
    with pytest.raises(ValueError, match="no reply links"):
        LinkPool([])


def test_a_pool_reads_the_file_prepare_writes(tmp_path: Path):
    path = tmp_path / "links.txt"
    path.write_text("/a/\n/b/\n")
    assert LinkPool.from_file(path).take(2) == ["/a/", "/b/"]


def test_the_pool_holds_enough_for_every_window_with_the_retakes():
    # Precheck, warm-up, and up to twice the planned pairs, each a full window.
    assert links_needed(window=2, pairs=5) == 12 * 2 * LINKS_PER_SECOND


def test_a_side_with_single_use_requests_writes_its_spec_afresh_before_every_run(
    monkeypatch, tmp_path
):
    runs, refreshes = [], []
    stats = {
        "requests": 10,
        "duration_us": 1_000_000,
        **dict.fromkeys(("connect", "read", "write", "status", "timeout", "unexpected"), 0),
        "first_unexpected": "",
        **dict.fromkeys(("p50_us", "p90_us", "p99_us", "max_us"), 1000),
    }
    monkeypatch.setattr(
        load, "wrk", lambda port, spec, seconds, out: runs.append(len(refreshes)) or stats
    )
    side = Side(
        "reply-link", 1, tmp_path / "spec.lua", lambda: None, refresh=lambda: refreshes.append(1)
    )

    warm(side, 1)
    measure(side, 2, None)
    measure(side, 2, None)

    assert runs == [1, 2, 3]  # each run after its own refresh


@pytest.mark.django_db
def test_the_prepared_reply_links_each_count_a_reply_once_and_the_preview_path_opens():
    from bench.prepare import reply_links

    parties = [DinnerPartyFactory(visibility=Visibility.PUBLIC, seats=1) for _ in range(2)]
    paths = reply_links([party.pk for party in parties], 3)

    assert len(set(paths)) == 3
    assert PendingReply.objects.count() == 3
    client = Client()
    first = client.post(paths[0])
    assert first.status_code == 302
    assert Client().post(paths[2]).status_code == 302
    assert Client().post(paths[0]).status_code == 400  # used
    assert RSVP.objects.filter(party=parties[0]).count() == 2  # a seat, then the waitlist
    preview = reverse("parties:invite", args=[parties[1].invite_token])
    assert Client().get(preview).status_code == 200


@pytest.mark.django_db
def test_one_csrf_pair_from_the_login_page_serves_every_reply_link_as_wrk_sends_them():
    """wrk sends each request with the same static cookie and token (the login
    page's), though each reply logs its browser in: the links still count."""
    import re

    from bench.prepare import reply_links

    party = DinnerPartyFactory(visibility=Visibility.PUBLIC, seats=5)
    paths = reply_links([party.pk], 3)
    page = Client(enforce_csrf_checks=True).get(reverse("login"))
    cookie = page.cookies["csrftoken"].value
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]

    for path in paths:
        wrk = Client(enforce_csrf_checks=True)
        wrk.cookies["csrftoken"] = cookie
        assert wrk.post(path, {"csrfmiddlewaretoken": token}).status_code == 302

    assert RSVP.objects.filter(party=party, status="going").count() == 3
