"""A property-based sweep of the whole site (issue 18, item 12).

Hypothesis draws path values for every URL pattern of the root URLconf (the
admin's included) and values for every field of every form, and the sweep sends
them as an anonymous visitor, a guest, a host and a staff member: nothing answers
500, and the seats add up after every request. Each request runs in a savepoint
rolled back afterwards, with the cache emptied before it, so every request meets
the same world and no throttle answers 429 for earlier ones.

Sizes are tuned so the sweep takes well under a minute on SQLite. With `CI=true`
the examples are derandomised, so CI runs the same ones every time.
"""

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django import forms
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, PathConverter
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from accounts.forms import (
    AccountDeleteForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    ProfileForm,
    RegisterForm,
    ThrottledAdminAuthenticationForm,
)
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import register_data
from accounts.two_factor import CodeForm, SetupForm
from accounts.two_factor import PasswordForm as TwoFactorPasswordForm
from accounts.verification import link_token
from common.food import Course
from parties import services
from parties.forms import (
    AnnouncementForm,
    CohostForm,
    ComeWithFewerForm,
    DishForm,
    PartyForm,
    PotluckForm,
    RSVPForm,
)
from parties.models import RSVP, RSVPStatus, Visibility
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import (
    admin_form_data,
    assert_seats_consistent,
    client_for,
    going,
    open_potluck,
)

pytestmark = [pytest.mark.django_db, pytest.mark.sweep]

SWEEP = settings(
    deadline=None,
    # No shrinking: a failure names its request already, and shrinking whole sweeps is slow.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    derandomize=os.environ.get("CI") == "true",
    database=None if os.environ.get("CI") == "true" else settings.default.database,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

ACTORS = ("anonymous", "guest", "host", "staff")

# --- Values -----------------------------------------------------------------------------

# Characters that have broken web apps: NUL and other controls, a lone CR, the
# byte-order mark, right-to-left override, combining marks, astral planes.
AWKWARD = [
    "\x00",
    "\x01",
    "\x08",
    "\x1b",
    "\x7f",
    "\x85",
    "\r",
    "\n",
    "\t",
    "\u202e",
    "\ufeff",
    "\u0301",
    "\U0001f35d",
    "é",
    "ß",
    "İ",
    "%",
    "'",
    '"',
    "<",
    "&",
    "\\",
]
CHARACTERS = st.one_of(st.characters(codec="utf-8"), st.sampled_from(AWKWARD))
TEXT = st.text(CHARACTERS, max_size=40)
LONG_TEXT = st.builds(
    lambda s, n: (s or "x") * n, st.text(CHARACTERS, max_size=3), st.integers(300, 10_000)
)
HUGE_NUMBERS = st.sampled_from([10**25, -(10**25), 2**31, 2**63, -(2**63) - 1, -1, 0])
NUMBER_TEXT = st.one_of(
    st.integers(-5, 600), HUGE_NUMBERS, st.sampled_from(["1.5", "1e3", "0x10", " 7 ", "٣", "NaN"])
).map(str)
# Anything at all: what a script, not a browser, may post for any field.
JUNK = st.one_of(TEXT, LONG_TEXT, NUMBER_TEXT, st.just(""), st.lists(TEXT, min_size=2, max_size=3))
DATETIMES = st.one_of(
    st.datetimes().map(lambda d: d.strftime(st_choice_format(d))),
    st.sampled_from(
        [
            "0001-01-01T00:00",
            "9999-12-31T23:59",
            "2026-03-29T02:30",
            "2026-13-01T00:00",
            "2026-02-30 10:00",
            "1970-01-01 00:00:00",
        ]
    ),
)


def st_choice_format(moment) -> str:
    return ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")[moment.microsecond % 3]


def flat_choices(choices) -> list[str]:
    values = []
    for value, label in choices:
        if isinstance(label, list | tuple):
            values.extend(str(inner) for inner, _ in label)
        else:
            values.append(str(value))
    return [value for value in values if value != ""] or [""]


def typed_values(field: forms.Field) -> st.SearchStrategy:
    """Values of the kind the field expects, edges included."""
    if isinstance(field, forms.BooleanField):
        return st.sampled_from(["on", "true", "false", "0", ""])
    if isinstance(field, forms.ModelMultipleChoiceField):
        pks = [str(pk) for pk in field.queryset.values_list("pk", flat=True)[:20]]
        return st.lists(st.one_of(st.sampled_from(pks or ["1"]), NUMBER_TEXT), max_size=3)
    if isinstance(field, forms.ModelChoiceField):
        pks = [str(pk) for pk in field.queryset.values_list("pk", flat=True)[:20]]
        return st.one_of(st.sampled_from(pks or ["1"]), NUMBER_TEXT)
    if isinstance(field, forms.MultipleChoiceField):
        return st.lists(st.sampled_from(flat_choices(field.choices)), max_size=4)
    if isinstance(field, forms.ChoiceField):
        return st.sampled_from(flat_choices(field.choices))
    if isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
        return NUMBER_TEXT
    if isinstance(field, forms.DateTimeField):
        return DATETIMES
    if isinstance(field, forms.DateField):
        return DATETIMES.map(lambda text: text[:10])
    if isinstance(field, forms.TimeField):
        return DATETIMES.map(lambda text: text[11:])
    if isinstance(field, forms.EmailField):
        return st.one_of(st.emails().map(str), TEXT.map(lambda local: f"{local}@example.com"))
    if isinstance(field, forms.CharField) and field.max_length:
        limit = field.max_length
        return st.one_of(st.text(CHARACTERS, max_size=limit), st.just("x" * (limit + 1)))
    return TEXT


def post_data(
    draw, form: forms.BaseForm, base: dict[str, Any], *, keep_base: float = 0.5
) -> dict[str, Any]:
    """What a client might post for `form`: each field either the valid `base`
    value (so the rest of the form gets past validation) or a drawn one."""
    data = dict(base)
    for name, form_field in form.fields.items():
        key = form.add_prefix(name)
        if isinstance(form_field, forms.MultiValueField):  # the admin's date and time
            keys = [f"{key}_{index}" for index in range(len(form_field.fields))]
            parts = [typed_values(part) for part in form_field.fields]
        else:
            keys, parts = [key], [typed_values(form_field)]
        for part_key, typed in zip(keys, parts, strict=True):
            if part_key in base and draw(st.booleans()):
                continue
            value = draw(st.one_of(typed, JUNK, st.none()))
            if value is None:
                data.pop(part_key, None)
            else:
                data[part_key] = value
    return data


# --- The world ----------------------------------------------------------------------------


@dataclass
class World:
    sessions: dict[str, str]  # actor -> session key
    ints: list[str]  # ids of rows that exist
    strings: list[str]  # tokens that mean something (invite, reset, confirmation)
    party_pk: int = 0
    private_pk: int = 0
    dish_pk: int = 0
    users: dict[str, Any] = field(default_factory=dict)

    def client(self, actor: str) -> Client:
        """A fresh client for `actor`, carrying their session (a logout in one
        request can't log them out of the next)."""
        client = Client()
        if actor in self.sessions:
            client.cookies[django_settings.SESSION_COOKIE_NAME] = self.sessions[actor]
        return client


def session_of(client: Client) -> str:
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def world(db) -> World:
    """A host with a public and a private (full) party, a guest going to one and
    waitlisted at the other, staff in the Hosts group with a party of their own,
    a superuser, a dish, a potluck slot, a co-host."""
    host = UserFactory(username="ana")
    guest = UserFactory(username="ben")
    staff = UserFactory(username="staff", is_staff=True)
    staff.groups.add(Group.objects.get(name="Hosts"))
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    filler = UserFactory(username="filler")
    public = DinnerPartyFactory(host=host, seats=4)
    private = DinnerPartyFactory(host=host, visibility=Visibility.PRIVATE, seats=2)
    DinnerPartyFactory(host=staff, seats=3)
    going(public, guest, plus_ones=1)
    going(private, filler, plus_ones=1)
    services.rsvp_submit(party=private, guest=guest, status=RSVPStatus.GOING, plus_ones=0)
    services.cohost_add(party=public, user=staff)
    dish = services.dish_add(party=public, cook=host, course="main", name="Paella")
    open_potluck(public, dessert=2)
    unconfirmed = UserFactory(username="new", unconfirmed=True)
    clients = {
        name: client_for(user)
        for name, user in (
            ("guest", guest),
            ("host", host),
            ("staff", staff),
            ("superuser", superuser),
        )
    }
    # A member with an authenticator app, logged in but not past the code step.
    pending = UserFactory(username="otp")
    TOTPDevice.objects.create(user=pending, name="App")
    clients["pending"] = client_for(pending)
    ints = sorted(
        {str(pk) for pk in (public.pk, private.pk, dish.pk, host.pk, guest.pk, staff.pk)}
        | {str(pk) for pk in TOTPDevice.objects.values_list("pk", flat=True)}
        | {str(pk) for pk in ContentType.objects.values_list("pk", flat=True)[:5]}
    )
    strings = [
        str(private.invite_token),
        urlsafe_base64_encode(force_bytes(guest.pk)),
        default_token_generator.make_token(guest),
        "set-password",
        link_token(unconfirmed),
    ]
    return World(
        sessions={name: session_of(client) for name, client in clients.items()},
        ints=ints,
        strings=strings,
        party_pk=public.pk,
        private_pk=private.pk,
        dish_pk=dish.pk,
        users={
            "host": host,
            "guest": guest,
            "staff": staff,
            "superuser": superuser,
            "pending": pending,
        },
    )


def checked(client: Client, method: str, path: str, data: Any = None) -> HttpResponse:
    """One request in a savepoint rolled back after it: below 500, seats consistent."""
    cache.clear()
    try:
        with transaction.atomic():
            response = client.post(path, data or {}) if method == "post" else client.get(path)
            assert response.status_code < 500, f"{method.upper()} {path!r}: {response.status_code}"
            assert_seats_consistent()
            transaction.set_rollback(True)
    except AssertionError:
        raise
    except Exception as error:  # a 500: name the request that raised it
        raise AssertionError(f"{method.upper()} {path!r} data={data!r} raised {error!r}") from error
    return response


# --- Every URL pattern ------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    parts: tuple  # literal strings and (kwarg name, converter or regex) pairs


ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def routes(patterns=None, prefix: tuple = ()) -> Iterator[Route]:
    """Every pattern of the root URLconf, its route cut into literal text and parameters."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern.pattern, RoutePattern):
            route, parts, start = str(pattern.pattern), [], 0
            for match in ROUTE_PARAMETER.finditer(route):
                parts.append(route[start : match.start()])
                converter = pattern.pattern.converters[match["name"]]
                parts.append((match["name"], converter))
                start = match.end()
            parts.append(route[start:])
        else:
            assert isinstance(pattern.pattern, RegexPattern)
            parts = [(None, pattern.pattern.regex.pattern)]
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, (*prefix, *parts))
        else:
            assert isinstance(pattern, URLPattern)
            yield Route(pattern.name or str(pattern.pattern), (*prefix, *parts))


# No pattern is skipped: route parameters get values per converter (known ids and
# tokens, 0, huge and negative numbers, NUL, control characters, 10,000
# characters), and the admin's two regex patterns (its app index and its
# catch-all) get strings drawn from their own regex.
ROUTES = list(routes())
POST_KEYS = [
    "post",
    "action",
    "_selected_action",
    "index",
    "select_across",
    "next",
    "_save",
    "_continue",
    "_addanother",
    "invite",
    "status",
    "plus_ones",
    "code",
    "password",
    "username",
    "email",
    "title",
    "seats",
    "name",
    "course",
]


def path_values(world: World, converter) -> st.SearchStrategy:
    if isinstance(converter, IntConverter):
        return st.one_of(
            st.sampled_from(world.ints),
            st.integers(0, 60).map(str),
            st.sampled_from([str(10**25), str(2**63), str(2**31), "0"]),
        )
    # str, and path (which may also hold slashes): negative and huge numbers too.
    alphabet = (
        CHARACTERS
        if isinstance(converter, PathConverter)
        else CHARACTERS.filter(lambda c: c != "/")
    )
    return st.one_of(
        st.sampled_from(world.ints + world.strings),
        st.sampled_from(["-1", str(-(10**25)), str(10**25), "0", "x" * 10_000]),
        st.text(alphabet, min_size=1, max_size=60),
    )


def draw_path(draw, world: World, route: Route) -> str:
    path = "/"
    for part in route.parts:
        if isinstance(part, str):
            path += part
        elif part[0] is None:  # a regex route: the admin's app index and its catch-all
            path += draw(st.from_regex(part[1], fullmatch=True).filter(lambda s: "\n" not in s))
        else:
            converter = part[1]
            safe = "/" if isinstance(converter, PathConverter) else ""
            path += quote(draw(path_values(world, converter)), safe=safe)
    return path


@settings(SWEEP, max_examples=3)
@pytest.mark.parametrize("actor", ACTORS)
@given(data=st.data())
def test_every_url_answers_below_500_and_keeps_the_seats_right(world, actor, data):
    for route in ROUTES:
        path = draw_path(data.draw, world, route)
        checked(world.client(actor), "get", path)
        body = data.draw(
            st.dictionaries(st.one_of(st.sampled_from(POST_KEYS), TEXT), JUNK, max_size=4)
        )
        checked(world.client(actor), "post", path, body)


# --- Every form -------------------------------------------------------------------------


@dataclass(frozen=True)
class FormTarget:
    """A form, the view that takes it and who posts it, with a valid submission as
    the base each drawn value replaces (so the rest gets past validation)."""

    id: str
    actor: str
    url: Callable[[World], str]
    form: Callable[[World], forms.BaseForm]
    base: Callable[[World], dict] = lambda world: {}


def party_base(world: World) -> dict:
    return {
        "title": "Paella night",
        "starts_at": f"{timezone_now_plus(3):%Y-%m-%dT%H:%M}",
        "timezone": "Europe/Paris",
        "venue": "1 Rue de la Paix",
        "area": "Paris",
        "main_dish": "Paella",
        "seats": "6",
        "description": "",
        "visibility": "public",
        "address_shown_to": "auto",
    }


def timezone_now_plus(days: int):
    return timezone.now() + timedelta(days=days)


def pk_url(name: str, **extra: str) -> Callable[[World], str]:
    def url(world: World) -> str:
        kwargs = {"pk": world.party_pk}
        kwargs.update({key: getattr(world, value) for key, value in extra.items()})
        return reverse(name, kwargs=kwargs)

    return url


SITE_FORMS = [
    FormTarget(
        "register",
        "anonymous",
        lambda w: reverse("register"),
        lambda w: RegisterForm(),
        lambda w: register_data(),
    ),
    FormTarget(
        "login",
        "anonymous",
        lambda w: reverse("login"),
        lambda w: LoginForm(),
        lambda w: {"username": "ben", "password": DEFAULT_PASSWORD},
    ),
    FormTarget(
        "admin login",
        "anonymous",
        lambda w: reverse("admin:login"),
        lambda w: ThrottledAdminAuthenticationForm(),
        lambda w: {"username": "staff", "password": DEFAULT_PASSWORD},
    ),
    FormTarget(
        "password reset",
        "anonymous",
        lambda w: reverse("password_reset"),
        lambda w: PasswordResetForm(),
        lambda w: {"email": w.users["guest"].email},
    ),
    FormTarget(
        "profile",
        "guest",
        lambda w: reverse("profile"),
        lambda w: ProfileForm(instance=w.users["guest"]),
        lambda w: {
            "first_name": "Ben",
            "last_name": "B",
            "email": w.users["guest"].email,
            "timezone": "UTC",
            "current_password": DEFAULT_PASSWORD,
        },
    ),
    FormTarget(
        "account delete",
        "guest",
        lambda w: reverse("account_delete"),
        lambda w: AccountDeleteForm(user=w.users["guest"]),
        lambda w: {"password": DEFAULT_PASSWORD},
    ),
    FormTarget(
        "password change",
        "guest",
        lambda w: reverse("password_change"),
        lambda w: PasswordChangeForm(user=w.users["guest"]),
        lambda w: {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "a-new-long-password-7",
            "new_password2": "a-new-long-password-7",
        },
    ),
    FormTarget(
        "two-factor code",
        "pending",
        lambda w: reverse("two_factor_verify"),
        lambda w: CodeForm(user=w.users["pending"]),
        lambda w: {"code": "123456"},
    ),
    FormTarget(
        "two-factor setup",
        "guest",
        lambda w: reverse("two_factor_setup"),
        lambda w: SetupForm(user=w.users["guest"], key="0" * 40),
        lambda w: {"code": "123456", "password": DEFAULT_PASSWORD},
    ),
    FormTarget(
        "recovery codes",
        "staff",
        lambda w: reverse("two_factor_recovery_codes"),
        lambda w: TwoFactorPasswordForm(user=w.users["staff"]),
        lambda w: {"password": DEFAULT_PASSWORD},
    ),
    FormTarget(
        "two-factor off",
        "staff",
        lambda w: reverse("two_factor_disable"),
        lambda w: TwoFactorPasswordForm(user=w.users["staff"]),
        lambda w: {"password": DEFAULT_PASSWORD},
    ),
    FormTarget(
        "party create",
        "host",
        lambda w: reverse("parties:create"),
        lambda w: PartyForm(),
        party_base,
    ),
    FormTarget("party update", "host", pk_url("parties:update"), lambda w: PartyForm(), party_base),
    FormTarget(
        "rsvp",
        "guest",
        pk_url("parties:rsvp"),
        lambda w: RSVPForm(),
        lambda w: {"status": "going", "plus_ones": "1", "note": ""},
    ),
    FormTarget(
        "rsvp with fewer plus-ones",
        "guest",
        pk_url("parties:rsvp_fewer"),
        lambda w: ComeWithFewerForm(),
        lambda w: {"plus_ones": "0"},
    ),
    FormTarget(
        "dish add",
        "host",
        pk_url("parties:dish_add"),
        lambda w: DishForm(prefix="dish"),
        lambda w: {"dish-course": "dessert", "dish-name": "Tart"},
    ),
    FormTarget(
        "slot claim",
        "guest",
        pk_url("parties:slot_claim"),
        lambda w: DishForm(prefix="claim"),
        lambda w: {"claim-course": "dessert", "claim-name": "Tart"},
    ),
    FormTarget(
        "dish edit",
        "host",
        pk_url("parties:dish_edit", dish_id="dish_pk"),
        lambda w: DishForm(),
        lambda w: {"course": "main", "name": "Paella"},
    ),
    FormTarget(
        "potluck",
        "host",
        pk_url("parties:potluck"),
        lambda w: PotluckForm(counts={}),
        lambda w: dict.fromkeys(Course.values, "1"),
    ),
    FormTarget(
        "co-host",
        "host",
        pk_url("parties:cohost_add"),
        lambda w: CohostForm(),
        lambda w: {"username": "ben"},
    ),
    FormTarget(
        "message guests",
        "host",
        pk_url("parties:announce"),
        lambda w: AnnouncementForm(),
        lambda w: {"audience": "going", "text": "Hello"},
    ),
]


@settings(SWEEP, max_examples=12)
@pytest.mark.parametrize("target", SITE_FORMS, ids=lambda target: target.id)
@given(data=st.data())
def test_every_site_form_answers_below_500_and_keeps_the_seats_right(world, target, data):
    form = target.form(world)
    body = post_data(data.draw, form, target.base(world))
    checked(world.client(target.actor), "post", target.url(world), body)


# The admin's add and change pages of every registered model: the superuser sees
# them all, the Hosts staff member the parties and replies they manage.
ADMIN_PAGES = [
    (actor, model, change)
    for model in (
        "auth.group",
        "otp_totp.totpdevice",
        "accounts.user",
        "parties.dinnerparty",
        "parties.rsvp",
    )
    for actor in ("superuser", "staff")
    for change in (False, True)
    if actor == "superuser" or model.startswith("parties.")
]


def admin_url(world: World, model: str, change: bool) -> str:
    app_label, model_name = model.split(".")
    if not change:
        return reverse(f"admin:{app_label}_{model_name}_add")
    objects = {
        "auth.group": lambda: Group.objects.get(name="Hosts").pk,
        "otp_totp.totpdevice": lambda: TOTPDevice.objects.filter(user=world.users["staff"])[0].pk,
        "accounts.user": lambda: world.users["guest"].pk,
        "parties.dinnerparty": lambda: world.party_pk,
        "parties.rsvp": lambda: RSVP.objects.filter(party_id=world.party_pk)[0].pk,
    }
    return reverse(f"admin:{app_label}_{model_name}_change", args=[objects[model]()])


def admin_page_forms(response: HttpResponse) -> list[forms.BaseForm]:
    """The main form of an admin add/change page and its inline formsets' forms."""
    page_forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        page_forms.append(inline.formset.management_form)
        page_forms.extend(inline.formset.initial_forms)
    return page_forms


@settings(SWEEP, max_examples=8)
@pytest.mark.parametrize(
    ("actor", "model", "change"), ADMIN_PAGES, ids=lambda value: str(value).replace(".", "-")
)
@given(data=st.data())
def test_every_admin_form_answers_below_500_and_keeps_the_seats_right(
    world, actor, model, change, data
):
    url = admin_url(world, model, change)
    page = checked(world.client(actor), "get", url)
    assert page.status_code == 200
    base = admin_form_data(page)
    body = dict(base)
    for form in admin_page_forms(page):
        body.update(post_data(data.draw, form, base))
    checked(world.client(actor), "post", url, body)


@settings(SWEEP, max_examples=8)
@given(data=st.data())
def test_the_admin_password_form_answers_below_500(world, data):
    url = reverse("admin:auth_user_password_change", args=[world.users["guest"].pk])
    page = checked(world.client("superuser"), "get", url)
    base = {
        "password1": "a-new-long-password-7",
        "password2": "a-new-long-password-7",
        "usable_password": "true",
    }
    checked(
        world.client("superuser"), "post", url, post_data(data.draw, page.context["form"], base)
    )
