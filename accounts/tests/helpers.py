"""Small helpers shared by the accounts tests."""

import html

from django.http import HttpResponse
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD


def page_text(response: HttpResponse) -> str:
    """The page as a user reads it: entities decoded, typographic apostrophes plain."""
    return html.unescape(response.content.decode()).replace("\u2019", "'")


def register_data(**overrides: str) -> dict[str, str]:
    data = {
        "username": "bruno",
        "email": "bruno@example.com",
        "password1": DEFAULT_PASSWORD,
        "password2": DEFAULT_PASSWORD,
    }
    data.update(overrides)
    return data


def pass_second_factor(client: Client, user: User) -> TOTPDevice:
    """As if `user`, logged in on `client`, had entered a right code: they get an
    authenticator app if they have none, and the session is verified by it."""
    device = two_factor.authenticator_of(user) or TOTPDevice.objects.create(
        user=user, name="Test app"
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.pop(two_factor.PENDING_SESSION_KEY, None)
    session.save()
    return device
