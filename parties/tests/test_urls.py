import pytest
from django.urls import resolve, reverse

from parties import urls

TOKEN = "Zm9vYmFyYmF6cXV4cXV1eA"

# The stable URLs of DESIGN.md: links and bookmarks rely on them.
PARTY_URLS = [
    ("list", [], "/parties/"),
    ("create", [], "/parties/new/"),
    ("detail", [7], "/parties/7/"),
    ("update", [7], "/parties/7/edit/"),
    ("delete", [7], "/parties/7/delete/"),
    ("rsvp", [7], "/parties/7/rsvp/"),
    ("rsvp_fewer", [7], "/parties/7/rsvp/fewer/"),
    ("regenerate_invite", [7], "/parties/7/invite/regenerate/"),
    ("calendar", [7], "/parties/7/calendar.ics"),
    ("calendar_feed_renew", [], "/parties/calendar-feed/new/"),
    ("invite", [TOKEN], f"/parties/invite/{TOKEN}/"),
    ("dish_add", [7], "/parties/7/menu/"),
    ("dish_edit", [7, 3], "/parties/7/menu/3/edit/"),
    ("dish_remove", [7, 3], "/parties/7/menu/3/remove/"),
    ("potluck", [7], "/parties/7/potluck/"),
    ("slot_claim", [7], "/parties/7/potluck/claim/"),
    ("cohost_add", [7], "/parties/7/cohosts/"),
    ("cohost_remove", [7, 3], "/parties/7/cohosts/3/remove/"),
    ("announce", [7], "/parties/7/messages/"),
    ("guest_list_csv", [7], "/parties/7/guests.csv"),
    ("guest_sheet", [7], "/parties/7/sheet/"),
    ("invitation", [TOKEN], f"/parties/invitation/{TOKEN}/"),
    ("invitation_opened", [TOKEN], f"/parties/invitation/{TOKEN}/opened/"),
    ("invitations", [7], "/parties/7/invitations/"),
    ("invitations_remind", [7], "/parties/7/invitations/remind/"),
    ("guest_reply", [7], "/parties/7/reply/"),
    ("guest_reply_sent", [7], "/parties/7/reply/sent/"),
    ("guest_reply_confirm", [7, "abc:def"], "/parties/7/reply/abc:def/"),
]


@pytest.mark.parametrize(("name", "args", "path"), PARTY_URLS)
def test_url_name_reverses_to_its_path_and_back(name, args, path):
    assert reverse(f"parties:{name}", args=args) == path
    match = resolve(path)
    assert match.view_name == f"parties:{name}"
    assert list(match.kwargs.values()) == args


def test_every_parties_url_name_is_tested():
    names = {pattern.name for pattern in urls.urlpatterns}
    assert names == {name for name, _args, _path in PARTY_URLS}
