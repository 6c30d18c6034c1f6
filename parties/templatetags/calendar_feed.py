"""`{% calendar_feed_links as feed %}`: the viewer's private calendar feed links,
for the profile page (accounts' template), made on first use."""

from django import template
from django.urls import reverse

from parties import services

register = template.Library()


@register.simple_tag(takes_context=True)
def calendar_feed_links(context) -> dict[str, str]:
    """{"https": …, "webcal": …}: the same feed, to paste or to open in a calendar app."""
    request = context["request"]
    token = services.calendar_feed_token(user=request.user)
    url = request.build_absolute_uri(reverse("calendar_feed", args=[token]))
    return {"https": url, "webcal": "webcal://" + url.split("://", 1)[1]}
