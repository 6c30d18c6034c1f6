"""`{% calendar_feed_links as feed %}`: the viewer's private calendar feed links,
for the profile page (accounts' template). One query; none is made here (a GET
writes nothing): the page offers a button to make the first link."""

from django import template
from django.urls import reverse

from parties import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def calendar_feed_links(context) -> dict[str, str] | None:
    """{"https": …, "webcal": …}: the same feed, to paste or to open in a calendar
    app; None while the member has no feed link yet."""
    request = context["request"]
    token = selectors.feed_token(request.user)
    if token is None:
        return None
    url = request.build_absolute_uri(reverse("calendar_feed", args=[token]))
    return {"https": url, "webcal": "webcal://" + url.split("://", 1)[1]}
