"""Every URL of the project: where it lives, and who may open it.

The login-wall tests walk the whole URL configuration, so a page added later is
covered without touching this file: it is either on PUBLIC below or behind the wall.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RegexPattern, RoutePattern

pytestmark = pytest.mark.django_db

# Names an anonymous visitor may open, and the status a GET gets.
PUBLIC = {
    "home": 200,
    "healthz": 200,
    "login": 200,
    "register": 200,
    "logout": 405,  # POST only
    "password_reset": 200,
    "password_reset_done": 200,
    "password_reset_confirm": 200,  # an invalid link says so
    "password_reset_complete": 200,
    "email_confirm": 200,  # an invalid link says so
    # A party's preview and replies without a password (issue 20): no such party
    # or link here, so a 404, a 405 (POST only) or a page saying the link is bad.
    "parties:invite": 404,
    "parties:invitation": 404,
    "parties:invitation_opened": 405,  # POST only, from the invitation page's script
    "parties:guest_reply": 405,
    "parties:guest_reply_sent": 200,
    "parties:guest_reply_confirm": 400,
    "admin:login": 200,
    "calendar_feed": 404,  # a private feed: no login, a token no member holds
}

# Tried in order for each URL parameter; the first its regex accepts is used.
SAMPLE_VALUES = ("1", "sample", "0b5e1d4c-8f3a-4e9b-9c2d-6a7f8e9d0c1b")

# Django's own pattern for `<converter:name>` in a route.
ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")


@dataclass(frozen=True)
class Endpoint:
    name: str  # "namespace:name", or "" for an unnamed pattern
    route: str  # as written in the URLconfs
    path: str  # a concrete path that resolves to it
    callback: Callable

    @property
    def is_admin(self) -> bool:
        return self.route.startswith("admin/")


def sample_for(regex: str) -> str:
    literal_choices = [part for part in regex.split("|") if re.escape(part) == part]
    for candidate in (*SAMPLE_VALUES, *literal_choices):
        if re.fullmatch(regex, candidate):
            return candidate
    raise LookupError(f"No sample value matches {regex!r}: add one to SAMPLE_VALUES.")


def fill_regex(regex: str) -> str:
    """A path matching a re_path() pattern: named groups get sample values."""
    regex = regex.removeprefix("^").removesuffix("$")
    out, i = [], 0
    while i < len(regex):
        if regex.startswith("(?P<", i):
            body_start = regex.index(">", i) + 1
            depth, j = 1, body_start
            while depth:
                if regex[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(regex[j], 0)
                j += 1
            out.append(sample_for(regex[body_start : j - 1]))
            i = j
        elif regex[i] == "\\":
            out.append(regex[i + 1])
            i += 2
        else:
            out.append(regex[i])
            i += 1
    return "".join(out)


def concrete(pattern: RoutePattern | RegexPattern) -> str:
    if isinstance(pattern, RegexPattern):
        return fill_regex(str(pattern))
    return ROUTE_PARAMETER.sub(
        lambda match: sample_for(pattern.converters[match["parameter"]].regex), str(pattern)
    )


def walk(
    patterns: list, route: str = "", path: str = "/", namespaces: tuple[str, ...] = ()
) -> Iterator[Endpoint]:
    for entry in patterns:
        entry_route, entry_path = route + str(entry.pattern), path + concrete(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from walk(entry.url_patterns, entry_route, entry_path, inner)
        else:
            assert isinstance(entry, URLPattern)
            name = ":".join((*namespaces, entry.name)) if entry.name else ""
            yield Endpoint(name, entry_route, entry_path, entry.callback)


ENDPOINTS = list(walk(get_resolver().url_patterns))


def by_route(endpoints: list[Endpoint]) -> list:
    return [pytest.param(endpoint, id=f"/{endpoint.route}") for endpoint in endpoints]


def login_wall(path: str, login_url: str) -> str:
    return f"{login_url}?{urlencode({'next': path}, safe='/')}"


def test_the_walk_finds_the_whole_project():
    names = {endpoint.name for endpoint in ENDPOINTS}

    assert {"home", "profile", "parties:list", "admin:index", "admin:app_list"} <= names
    assert set(PUBLIC) <= names


@pytest.mark.parametrize("endpoint", by_route(ENDPOINTS))
def test_each_sample_path_resolves_to_its_own_pattern(endpoint):
    assert resolve(endpoint.path).func is endpoint.callback


@pytest.mark.parametrize(
    "endpoint",
    by_route([e for e in ENDPOINTS if e.name not in PUBLIC and not e.is_admin]),
)
def test_anonymous_visitors_meet_the_login_wall(client, endpoint):
    response = client.get(endpoint.path)

    assert response.status_code == 302, f"{endpoint.path} answered {response.status_code}"
    assert response["Location"] == login_wall(endpoint.path, reverse("login"))


@pytest.mark.parametrize(
    "endpoint",
    by_route([e for e in ENDPOINTS if e.name not in PUBLIC and e.is_admin]),
)
def test_anonymous_visitors_meet_the_admin_login(client, endpoint):
    response = client.get(endpoint.path, follow=True)

    if response.status_code == 404 and not response.redirect_chain:
        return
    assert response.redirect_chain, f"{endpoint.path} answered {response.status_code}"
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == reverse("admin:login")
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("endpoint", by_route([e for e in ENDPOINTS if e.name in PUBLIC]))
def test_public_pages_open_to_anonymous_visitors(client, endpoint):
    assert client.get(endpoint.path).status_code == PUBLIC[endpoint.name]


# --- Names and paths (DESIGN.md, "URLs") ------------------------------------------------


# Name, URL kwargs and the path DESIGN.md gives it.
SITE_URLS = [
    ("home", {}, "/"),
    ("healthz", {}, "/healthz"),
    ("register", {}, "/accounts/register/"),
    ("login", {}, "/accounts/login/"),
    ("logout", {}, "/accounts/logout/"),
    ("profile", {}, "/accounts/profile/"),
    ("account_delete", {}, "/accounts/profile/delete/"),
    ("account_export", {}, "/accounts/profile/export.json"),
    ("two_factor_verify", {}, "/accounts/two-factor/verify/"),
    ("two_factor_setup", {}, "/accounts/two-factor/setup/"),
    ("two_factor_recovery_codes", {}, "/accounts/two-factor/recovery-codes/"),
    ("two_factor_disable", {}, "/accounts/two-factor/disable/"),
    ("account_sessions", {}, "/accounts/profile/sessions/"),
    ("account_sessions_end_others", {}, "/accounts/profile/sessions/end-others/"),
    (
        "account_session_end",
        {"session_id": "0f1e2d3c4b5a69788796"},
        "/accounts/profile/sessions/0f1e2d3c4b5a69788796/end/",
    ),
    ("password_change", {}, "/accounts/password_change/"),
    ("keep_account", {}, "/accounts/keep/"),
    ("password_change_done", {}, "/accounts/password_change/done/"),
    ("password_reset", {}, "/accounts/password_reset/"),
    ("password_reset_done", {}, "/accounts/password_reset/done/"),
    (
        "password_reset_confirm",
        {"uidb64": "MQ", "token": "set-password"},
        "/accounts/reset/MQ/set-password/",
    ),
    ("password_reset_complete", {}, "/accounts/reset/done/"),
    ("email_confirm", {"token": "abc:def:ghi"}, "/accounts/email/confirm/abc:def:ghi/"),
    ("email_confirm_resend", {}, "/accounts/email/resend/"),
    ("email_change_cancel", {}, "/accounts/email/cancel-change/"),
    ("parties:list", {}, "/parties/"),
    ("calendar_feed", {"token": "Zm9vYmFyYmF6cXV4cXV1eA"}, "/calendar/Zm9vYmFyYmF6cXV4cXV1eA.ics"),
    ("admin:index", {}, "/admin/"),
    ("admin:login", {}, "/admin/login/"),
]


@pytest.mark.parametrize(("name", "kwargs", "path"), SITE_URLS)
def test_url_name_reverses_to_its_path(name, kwargs, path):
    assert reverse(name, kwargs=kwargs) == path
    assert resolve(path).view_name == name


@pytest.mark.parametrize(
    "path",
    [
        "/parties/new/",
        "/parties/7/",
        "/parties/7/edit/",
        "/parties/7/delete/",
        "/parties/7/rsvp/",
        "/parties/7/calendar.ics",
        "/parties/invite/Zm9vYmFyYmF6cXV4cXV1eA/",
    ],
)
def test_design_party_paths_exist(path):
    assert resolve(path).namespace == "parties"


def test_every_site_url_name_has_a_path_test():
    tested = {name for name, _kwargs, _path in SITE_URLS}
    site_names = {
        endpoint.name
        for endpoint in ENDPOINTS
        if endpoint.name and ":" not in endpoint.name  # the parties and admin apps own theirs
    }

    assert site_names <= tested
