from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models.functions import Lower

from common.food import validate_allergens, validate_diets
from common.text import validate_multiline_text, validate_single_line_text
from common.timezones import validate_timezone


def default_timezone() -> str:
    return settings.TIME_ZONE


class User(AbstractUser):
    first_name = models.CharField(
        "first name", max_length=150, blank=True, validators=[validate_single_line_text]
    )
    last_name = models.CharField(
        "last name", max_length=150, blank=True, validators=[validate_single_line_text]
    )
    # Django's EmailValidator takes control characters in a quoted local part.
    email = models.EmailField(
        "email address", max_length=254, validators=[validate_single_line_text]
    )
    dietary_notes = models.TextField(
        blank=True,
        max_length=500,
        validators=[validate_multiline_text],
        help_text="Anything a host should know, e.g. “vegetarian, no nuts”.",
    )
    diets = models.JSONField(
        default=list, blank=True, validators=[validate_diets], help_text="Diets you follow."
    )
    allergies = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_allergens],
        help_text="Allergens you must avoid (the 14 that EU food law names).",
    )
    timezone = models.CharField(
        "time zone",
        max_length=64,
        default=default_timezone,
        validators=[validate_timezone],
        help_text="Your parties default to this zone; other times are shown in it.",
    )
    # Set with every stored notice (parties.Notice), cleared when they are shown:
    # the user row is read on every request anyway, so pages look for notices
    # only when there are some.
    has_notices = models.BooleanField(default=False, editable=False)

    REQUIRED_FIELDS = ["email"]

    class Meta(AbstractUser.Meta):
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="That username is taken.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="An account with this email already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class Session(AbstractBaseSession):
    """Django's database session, with the account it is logged in to (if any) in
    a column of its own: every logged-in request loads the two in one query
    (`accounts.sessions`), and deleting an account deletes its sessions."""

    user = models.ForeignKey(
        User, null=True, blank=True, editable=False, on_delete=models.CASCADE, related_name="+"
    )
    # For the list of one's sessions (accounts.sessions): the browser and system it
    # runs on, and when it was last saved (at most every few minutes while in use).
    device = models.CharField(max_length=100, blank=True, default="", editable=False)
    last_seen = models.DateTimeField(null=True, blank=True, editable=False)

    @classmethod
    def get_session_store_class(cls):
        # The engine in use (accounts.sessions, or accounts.cached_sessions with
        # Redis), looked up as Django's SessionMiddleware does.
        return import_module(settings.SESSION_ENGINE).SessionStore
