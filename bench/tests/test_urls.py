"""bench.urls: the site's pages, and the ceiling through the full middleware."""

import pytest
from django.urls import resolve, reverse

from dinnerparty.urls import urlpatterns as site_urlpatterns

pytestmark = [pytest.mark.django_db, pytest.mark.urls("bench.urls")]


def test_the_ceiling_is_a_constant_page_through_the_sites_middleware(client):
    response = client.get("/bench/hello")

    assert reverse("bench_hello") == "/bench/hello"
    assert response.status_code == 200
    assert response.content == b"Hello, world"
    assert response["Content-Type"] == "text/plain"
    # The site's middleware ran: request id, CSP, frame options.
    assert response["X-Request-Id"]
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/", "/healthz", "/accounts/login/", "/parties/"])
def test_the_sites_pages_are_served_as_the_site_serves_them(path):
    bench = resolve(path, urlconf="bench.urls")
    site = resolve(path, urlconf="dinnerparty.urls")

    assert bench.func == site.func
    assert bench.view_name == site.view_name


def test_every_site_url_is_kept():
    from bench.urls import urlpatterns

    assert urlpatterns[: len(site_urlpatterns)] == site_urlpatterns
