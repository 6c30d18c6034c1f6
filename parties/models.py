import secrets
import zoneinfo
from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import dateformat, timezone

from accounts.models import default_timezone
from dinnerparty.timezones import validate_timezone

MAX_SEATS = 500
MAX_PLUS_ONES = 5
WHEN_FORMAT = "D j M, H:i T"  # "Sat 12 Dec, 19:00 CET"


def new_invite_token() -> str:
    return secrets.token_urlsafe(24)


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public — listed for every member"
    PRIVATE = "private", "Private — only people with the invite link"


class DinnerPartyQuerySet(models.QuerySet):
    def upcoming(self) -> "DinnerPartyQuerySet":
        return self.filter(starts_at__gte=timezone.now())

    def visible_to(self, user, *, invite_token: str = "") -> "DinnerPartyQuerySet":
        """Public parties, the user's own, private ones they hold an RSVP for
        (and the one whose invite link they carry). Superusers see all."""
        if user.is_superuser:
            return self.all()
        condition = (
            Q(visibility=Visibility.PUBLIC)
            | Q(host=user)
            | Exists(RSVP.objects.filter(party=OuterRef("pk"), guest=user))
        )
        if invite_token:
            condition |= Q(invite_token=invite_token)
        return self.filter(condition)

    def editable_by(self, user) -> "DinnerPartyQuerySet":
        return self.all() if user.is_superuser else self.filter(host=user)


class DinnerParty(models.Model):
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hosted_parties"
    )
    title = models.CharField(max_length=120)
    starts_at = models.DateTimeField("starts at", db_index=True)
    timezone = models.CharField(
        "time zone",
        max_length=64,
        validators=[validate_timezone],
        default=default_timezone,
        help_text="Times are entered and shown in this zone.",
    )
    venue = models.CharField(max_length=200, help_text="Where guests should come.")
    main_dish = models.CharField("main dish", max_length=120, help_text="What's cooking?")
    seats = models.PositiveSmallIntegerField(
        help_text="Seats for guests (you, the host, are not counted).",
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SEATS)],
    )
    seats_taken = models.PositiveSmallIntegerField("seats taken", default=0, editable=False)
    description = models.TextField(blank=True, max_length=2000)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    invite_token = models.CharField(
        max_length=64, unique=True, default=new_invite_token, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    guests = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="RSVP", related_name="attended_parties"
    )

    objects = DinnerPartyQuerySet.as_manager()

    class Meta:
        verbose_name = "dinner party"
        verbose_name_plural = "dinner parties"
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["host", "starts_at"], name="party_host_starts_idx"),
            models.Index(fields=["visibility", "starts_at"], name="party_visibility_starts_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(seats__gte=1, seats__lte=MAX_SEATS),
                name="party_seats_1_to_500",
                violation_error_message=f"A party has between 1 and {MAX_SEATS} guest seats.",
            ),
            models.CheckConstraint(
                condition=Q(seats_taken__lte=models.F("seats")),
                name="party_seats_taken_lte_seats",
                violation_error_message="More seats are taken than the table has.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("parties:detail", args=[self.pk])

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def local_starts_at(self) -> datetime:
        return timezone.localtime(self.starts_at, self.zone)

    @property
    def when(self) -> str:
        """The start in the party's own zone, e.g. "Sat 12 Dec, 19:00 CET"."""
        return dateformat.format(self.local_starts_at, WHEN_FORMAT)

    @property
    def seats_left(self) -> int:
        return self.seats - self.seats_taken

    @property
    def is_full(self) -> bool:
        return self.seats_left <= 0

    @property
    def has_started(self) -> bool:
        return self.starts_at <= timezone.now()

    @property
    def is_private(self) -> bool:
        return self.visibility == Visibility.PRIVATE

    @property
    def host_name(self) -> str:
        """How guests call the host: "Ana" (first name), else the username."""
        return self.host.first_name or self.host.username

    def describe(self) -> str:
        """How messages name a party: “Ana's dinner party on Sat 12 Dec, 19:00 CET”."""
        return f"{self.host_name}'s dinner party “{self.title}” on {self.when}"


class RSVPStatus(models.TextChoices):
    GOING = "going", "Going"
    MAYBE = "maybe", "Maybe"
    DECLINED = "declined", "Can't go"
    WAITLISTED = "waitlisted", "Waitlisted"


class RSVP(models.Model):
    party = models.ForeignKey(DinnerParty, on_delete=models.CASCADE, related_name="rsvps")
    guest = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rsvps"
    )
    status = models.CharField(max_length=10, choices=RSVPStatus.choices)
    plus_ones = models.PositiveSmallIntegerField(
        "plus-ones",
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_PLUS_ONES)],
    )
    note = models.CharField(
        max_length=200, blank=True, help_text="E.g. what you'll bring, or when you'll arrive."
    )
    # Arrival order on the waitlist: set when the guest joins it.
    waitlisted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by send_reminders when the reminder goes out, so it goes out once.
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "RSVP"
        verbose_name_plural = "RSVPs"
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["party", "status", "waitlisted_at"], name="rsvp_party_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["party", "guest"],
                name="rsvp_one_per_guest_per_party",
                violation_error_message="This guest has already replied to this party.",
            ),
            models.CheckConstraint(
                condition=Q(plus_ones__gte=0, plus_ones__lte=MAX_PLUS_ONES),
                name="rsvp_plus_ones_0_to_5",
                violation_error_message=f"Bring at most {MAX_PLUS_ONES} plus-ones.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guest} → {self.party} ({self.get_status_display()})"

    @property
    def seats_needed(self) -> int:
        return 1 + self.plus_ones


class Notice(models.Model):
    """A message for a user who wasn't there when it happened (e.g. promoted
    from the waitlist); shown as a flash message on their next page."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.text
