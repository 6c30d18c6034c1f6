import functools
import json
import secrets
import zoneinfo
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Lower
from django.db.models.lookups import IsNull
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.timesince import timeuntil
from django.utils.translation import gettext, ngettext_lazy, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult

from accounts.models import default_timezone
from common.food import Course, validate_allergens, validate_diets
from common.text import interpolate_lazy, validate_multiline_text, validate_single_line_text
from common.timezones import validate_timezone

MAX_SEATS = 500
MAX_PLUS_ONES = 5
PLANNING_YEARS = 5  # how far ahead a party may start
DEFAULT_LENGTH = timedelta(hours=3)  # a party without an end time
# "Sat 12 Dec, 19:00 CET"; German reads "Fr 18. Dez., 20:00 CET" (a Django date
# format per language, from the catalogue).
WHEN_FORMAT = pgettext_lazy("date and time of a party", "D j M, H:i T")
# A party's start in the viewer's zone ("Sun 13 Dec, 2:30 am"): English writes its
# clock itself; other languages by this Django time format (e.g. "H:i").
DAY_FORMAT = pgettext_lazy("day of a party's start in another zone", "D j M")
CLOCK_FORMAT = pgettext_lazy("time of day in another zone (English: 2:30 pm)", "g:i a")


def local_time(moment: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """`moment` in `zone`, or in UTC where that zone's date is off the calendar
    (after 9999-12-31 or before year 1): a party stored at an end of the calendar
    before such dates were refused still shows, in UTC."""
    try:
        return timezone.localtime(moment, zone)
    except OverflowError:
        return timezone.localtime(moment, UTC)


@functools.lru_cache(maxsize=4096)
def format_when(starts_at: datetime, zone_name: str, language: str | None) -> str:
    """`DinnerParty.when`, kept: a reply names its party in its message and in
    both emails, and Django's date formatting costs ~20 µs a time."""
    # (`language` is active here: the key names it so each language has its own.)
    return dateformat.format(local_time(starts_at, zoneinfo.ZoneInfo(zone_name)), WHEN_FORMAT)


def latest_party_start(now: datetime) -> datetime:
    """How far ahead a party may be planned: PLANNING_YEARS from `now`."""
    try:
        return now.replace(year=now.year + PLANNING_YEARS)
    except ValueError:  # 29 February
        return now.replace(year=now.year + PLANNING_YEARS, day=28)


def validate_party_start(starts_at: datetime) -> None:
    """A new start time lies between now and PLANNING_YEARS ahead. Comparing aware
    datetimes converts neither, so this is safe to run first on any date, even one
    whose UTC time is off the calendar (9999-12-31 23:59 in Los Angeles)."""
    now = timezone.now()
    if starts_at <= now:
        raise ValidationError(_("Pick a time in the future."), code="in_the_past")
    if starts_at > latest_party_start(now):
        raise ValidationError(
            ngettext_lazy(
                "Pick a date within the next %(years)d year.",
                "Pick a date within the next %(years)d years.",
                "years",
            ),
            code="too_far_ahead",
            params={"years": PLANNING_YEARS},
        )


def new_invite_token() -> str:
    return secrets.token_urlsafe(24)


class Visibility(models.TextChoices):
    PRIVATE = "private", _("Private — only people with the invite link")
    PUBLIC = "public", _("Public — listed for every member")


VISIBILITY_HELP = _(
    "Private: only people you send the invite link to (and guests who have replied) "
    "see the party. Public: every member who logs in sees it in the party list — its "
    "title, time, host, main dish and description, and the exact address unless you "
    "choose below to show it only to guests at the table."
)


class DinnerPartyQuerySet(models.QuerySet):
    def upcoming(self, now: datetime | None = None) -> "DinnerPartyQuerySet":
        return self.filter(starts_at__gte=now or timezone.now())

    def visible_to(self, user, *, invite_token: str = "") -> "DinnerPartyQuerySet":
        """Public parties, the user's own, those they co-host, private ones they
        hold an RSVP for (and the one whose invite link they carry). Superusers see all.

        The user is used only through `user.pk` (and the two flags), so the
        compiled queries (parties/queries.py) can give the viewer's id as an input."""
        if user.is_superuser:
            return self.all()
        condition = Q(visibility=Visibility.PUBLIC)
        if user.is_authenticated:  # (a visitor has no parties of their own)
            # "Has a reply" and "co-hosts" are scalar subqueries, not EXISTS: for an
            # EXISTS, PostgreSQL may build a hash of every party the user ever
            # replied to on each query (10 ms for a guest with 5,000 replies); a
            # scalar subquery is one index lookup, made only for private parties.
            replied = RSVP.objects.filter(party=OuterRef("pk"), guest_id=user.pk).order_by()
            cohosts = self.model.cohosts.through.objects.filter(
                dinnerparty=OuterRef("pk"), user_id=user.pk
            )
            condition |= (
                Q(host_id=user.pk)
                | Q(IsNull(Subquery(replied.values("pk")[:1]), False))
                | Q(IsNull(Subquery(cohosts.values("pk")[:1]), False))
            )
        if invite_token:
            condition |= Q(invite_token=invite_token)
        return self.filter(condition)

    def editable_by(self, user) -> "DinnerPartyQuerySet":
        """Parties the user may change: their own and those they co-host."""
        if user.is_superuser:
            return self.all()
        return self.filter(
            Q(host=user)
            | Q(
                pk__in=self.model.cohosts.through.objects.filter(user=user).values("dinnerparty_id")
            )
        )

    def with_viewer(self, user) -> "DinnerPartyQuerySet":
        """Annotate the viewer's reply status and whether they co-host, which decide
        what a party card may show them (see `venue_for`)."""
        if not user.is_authenticated:
            # No id, so no reply and no co-hosting: constants, not subqueries.
            return self.annotate(
                viewer_status=Value(None, output_field=models.CharField()),
                viewer_cohosts=Value(False),
            )
        return self.annotate(
            viewer_status=Subquery(
                RSVP.objects.filter(party=OuterRef("pk"), guest_id=user.pk)
                .order_by()
                .values("status")[:1]
            ),
            viewer_cohosts=Exists(
                self.model.cohosts.through.objects.filter(
                    dinnerparty=OuterRef("pk"), user_id=user.pk
                )
            ),
        )

    def deletable_by(self, user) -> "DinnerPartyQuerySet":
        """Only the host (or a superuser) cancels a party; co-hosts cannot."""
        return self.all() if user.is_superuser else self.filter(host=user)


class DinnerParty(models.Model):
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hosted_parties"
    )
    title = models.CharField(max_length=120, validators=[validate_single_line_text])
    starts_at = models.DateTimeField(_("starts at"))
    # None: DEFAULT_LENGTH after the start (see `ends`).
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    # None: replies stay open until the party starts.
    reply_by = models.DateTimeField(_("reply by"), null=True, blank=True)
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        validators=[validate_timezone],
        default=default_timezone,
        help_text=_("Times are entered and shown in this zone."),
    )
    venue = models.CharField(
        max_length=200, help_text=_("The exact address."), validators=[validate_single_line_text]
    )
    area = models.CharField(
        _("rough area"),
        max_length=120,
        blank=True,
        help_text=_("Shown instead of the address when it is hidden, e.g. “Kreuzberg, Berlin”."),
        validators=[validate_single_line_text],
    )
    hide_address = models.BooleanField(
        _("reveal the address only to guests at the table"),
        default=False,
        help_text=_("Everyone else, the waitlist included, sees only the rough area."),
    )
    potluck = models.BooleanField(
        default=False, help_text=_("Guests who are going bring dishes for open course slots.")
    )
    cohosts = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="cohosted_parties"
    )
    main_dish = models.CharField(
        _("main dish"),
        max_length=120,
        help_text=_("What's cooking?"),
        validators=[validate_single_line_text],
    )
    # The main dish's tags, as any dish on the menu has them (`Dish`).
    main_dish_allergens = models.JSONField(
        _("main dish contains"), default=list, blank=True, validators=[validate_allergens]
    )
    main_dish_allergens_complete = models.BooleanField(
        _("these are all the main's allergens"),
        default=False,
        help_text=_(
            "Tick only if you checked every ingredient: otherwise guests with "
            "allergies see “not confirmed”."
        ),
    )
    main_dish_suits = models.JSONField(
        _("main dish suits"), default=list, blank=True, validators=[validate_diets]
    )
    seats = models.PositiveSmallIntegerField(
        help_text=_("Seats for guests (you, the host, are not counted)."),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SEATS)],
    )
    seats_taken = models.PositiveSmallIntegerField(_("seats taken"), default=0, editable=False)
    description = models.TextField(
        blank=True,
        max_length=2000,
        validators=[validate_multiline_text],
        help_text=_("Everyone who can see the party reads this."),
    )
    table_note = models.TextField(
        _("note for guests at the table"),
        blank=True,
        max_length=1000,
        validators=[validate_multiline_text],
        help_text=_("Shown only where the exact address is, e.g. “Buzzer says Silva, 3rd floor”."),
    )
    visibility = models.CharField(
        max_length=10,
        choices=Visibility.choices,
        default=Visibility.PRIVATE,
        help_text=VISIBILITY_HELP,
    )
    invite_token = models.CharField(
        max_length=64, unique=True, default=new_invite_token, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Moves on with every change parties/services.py makes to what the party's
    # page shows (replies, seats, the waitlist, dishes, slots, co-hosts,
    # messages) and when a guest or host renames themselves: the cached guest
    # list and menu are keyed by it.
    version = models.PositiveIntegerField(default=0, editable=False)
    # Moves on with every change of time or place (services.party_update): the
    # .ics SEQUENCE, so calendars replace the entry they hold.
    sequence = models.PositiveIntegerField(default=0, editable=False)
    # When the hosts' final numbers email went out (parties/deadline.py): once.
    final_numbers_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    guests = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="RSVP", related_name="attended_parties"
    )

    objects = DinnerPartyQuerySet.as_manager()

    class Meta:
        verbose_name = _("dinner party")
        verbose_name_plural = _("dinner parties")
        ordering = ["starts_at", "pk"]
        indexes = [
            # The list's order, with what decides who may see a party: a page's
            # ids are read from this index alone, however deep the page.
            models.Index(
                fields=["starts_at", "id", "visibility", "host"], name="party_listing_idx"
            ),
            models.Index(fields=["host", "starts_at"], name="party_host_starts_idx"),
            models.Index(fields=["visibility", "starts_at"], name="party_visibility_starts_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(seats__gte=1, seats__lte=MAX_SEATS),
                name="party_seats_1_to_500",
                violation_error_message=interpolate_lazy(
                    _("A party has between 1 and %(max)d guest seats."), {"max": MAX_SEATS}
                ),
            ),
            models.CheckConstraint(
                condition=Q(seats_taken__lte=models.F("seats")),
                name="party_seats_taken_lte_seats",
                violation_error_message=_("More seats are taken than the table has."),
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="party_ends_after_start",
                violation_error_message=_("A party ends after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(reply_by__isnull=True) | Q(reply_by__lt=models.F("starts_at")),
                name="party_reply_by_before_start",
                violation_error_message=_("The reply-by date comes before the start."),
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
        """The start in the party's zone (in UTC if that is off the calendar)."""
        return local_time(self.starts_at, self.zone)

    @property
    def when(self) -> str:
        """The start in the party's own zone, e.g. "Sat 12 Dec, 19:00 CET"."""
        return format_when(self.starts_at, self.timezone, translation.get_language())

    def time_in_zone(self, zone_name: str) -> str:
        """The start in another zone, when its clock differs from the party's:
        "2:30 pm", or "Sun 13 Dec, 2:30 am" on another day; "" when it doesn't."""
        try:
            zone = zoneinfo.ZoneInfo(zone_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return ""
        theirs, ours = local_time(self.starts_at, zone), self.local_starts_at
        if theirs.utcoffset() == ours.utcoffset():
            return ""
        if (translation.get_language() or "en").startswith("en"):
            clock = (
                f"{theirs.hour % 12 or 12}:{theirs.minute:02d} {'am' if theirs.hour < 12 else 'pm'}"
            )
        else:
            clock = dateformat.format(theirs, CLOCK_FORMAT)
        if theirs.date() != ours.date():
            return pgettext("a day and a time of day in another zone", "%(day)s, %(time)s") % {
                "day": dateformat.format(theirs, DAY_FORMAT),
                "time": clock,
            }
        return clock

    @property
    def ends(self) -> datetime:
        """The end: `ends_at`, else DEFAULT_LENGTH after the start (may raise
        OverflowError for a start at the end of the calendar)."""
        return self.ends_at or self.starts_at + DEFAULT_LENGTH

    @property
    def ends_text(self) -> str:
        """The end in the party's zone, as `when` gives the start ("" if unset)."""
        if self.ends_at is None:
            return ""
        return format_when(self.ends_at, self.timezone, translation.get_language())

    @property
    def reply_by_text(self) -> str:
        """The reply-by date in the party's zone, as `when` gives the start."""
        if self.reply_by is None:
            return ""
        return format_when(self.reply_by, self.timezone, translation.get_language())

    @property
    def replies_closed(self) -> bool:
        """Past the reply-by date: new replies are closed (see services.rsvp_refusal)."""
        return self.reply_by is not None and self.reply_by <= timezone.now()

    @property
    def starts_in(self) -> str:
        """How far off the party is, in its largest unit: "3 days", "5 hours"."""
        return timeuntil(self.starts_at, depth=1)

    @property
    def seats_left(self) -> int:
        return self.seats - self.seats_taken

    @property
    def is_full(self) -> bool:
        return self.seats_left <= 0

    @property
    def has_started(self) -> bool:
        return self.starts_at <= timezone.now()

    def sees_address(self, *, user, status: str | None, cohost: bool = False) -> bool:
        """Hosts and guests at the table see the exact address (and the note for
        them); when the host hides it, nobody else does."""
        if not self.hide_address or status == RSVPStatus.GOING or cohost:
            return True
        return user is not None and (user.pk == self.host_id or user.is_superuser)

    def venue_for(self, *, user, status: str | None, cohost: bool = False) -> str:
        """The exact address for hosts and guests at the table; otherwise, when the
        host hides it, only the rough area."""
        if self.sees_address(user=user, status=status, cohost=cohost):
            return self.venue
        return self.area or gettext("Address shared with guests at the table")

    def venue_for_viewer(self, user) -> str:
        """`venue_for`, from the annotations `with_viewer` adds."""
        return self.venue_for(
            user=user,
            status=getattr(self, "viewer_status", None),
            cohost=getattr(self, "viewer_cohosts", False),
        )

    @property
    def is_private(self) -> bool:
        return self.visibility == Visibility.PRIVATE

    @property
    def host_name(self) -> str:
        """How guests call the host: "Ana" (first name), else the username."""
        return self.host.first_name or self.host.username

    def main_dish_as_dish(self) -> "Dish":
        """The host's main dish as a menu line (not saved): checked against the
        guests' diets and counted in the per-course summary like any dish."""
        return Dish(
            party=self,
            course=Course.MAIN,
            name=self.main_dish,
            allergens=self.main_dish_allergens,
            allergens_complete=self.main_dish_allergens_complete,
            suits=self.main_dish_suits,
            added_by_id=self.host_id,
        )

    def describe(self) -> str:
        """How messages name a party: “Ana's dinner party on Sat 12 Dec, 19:00 CET”."""
        return gettext("%(host)s's dinner party “%(title)s” on %(when)s") % {
            "host": self.host_name,
            "title": self.title,
            "when": self.when,
        }


class CalendarFeed(models.Model):
    """A member's private calendar feed (/calendar/<token>.ics): the parties they
    host or go to. Anyone with the link reads it; a new token revokes the old."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_invite_token)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return gettext("Calendar feed of %(user)s") % {"user": self.user}


class RSVPStatus(models.TextChoices):
    GOING = "going", _("Going")
    MAYBE = "maybe", _("Maybe")
    DECLINED = "declined", _("Can't go")
    WAITLISTED = "waitlisted", _("Waitlisted")


class RSVP(models.Model):
    party = models.ForeignKey(DinnerParty, on_delete=models.CASCADE, related_name="rsvps")
    guest = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rsvps"
    )
    status = models.CharField(max_length=10, choices=RSVPStatus.choices)
    plus_ones = models.PositiveSmallIntegerField(
        _("plus-ones"),
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_PLUS_ONES)],
    )
    note = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("E.g. what you'll bring, or when you'll arrive."),
        validators=[validate_single_line_text],
    )
    plus_one_diets = models.JSONField(
        _("plus-ones' diets"), default=list, blank=True, validators=[validate_diets]
    )
    plus_one_allergies = models.JSONField(
        _("plus-ones' allergies"), default=list, blank=True, validators=[validate_allergens]
    )
    # Arrival order on the waitlist: set when the guest joins it.
    waitlisted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by send_reminders when the reminder goes out, so it goes out once.
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("RSVP")
        verbose_name_plural = _("RSVPs")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["party", "status", "waitlisted_at"], name="rsvp_party_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["party", "guest"],
                name="rsvp_one_per_guest_per_party",
                violation_error_message=_("This guest has already replied to this party."),
            ),
            models.CheckConstraint(
                condition=Q(plus_ones__gte=0, plus_ones__lte=MAX_PLUS_ONES),
                name="rsvp_plus_ones_0_to_5",
                violation_error_message=interpolate_lazy(
                    _("Bring at most %(max)d plus-ones."), {"max": MAX_PLUS_ONES}
                ),
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


class PotluckSlot(models.Model):
    """One dish the host wants a guest to bring ("dessert #2"). Claimed by at
    most one dish: the database holds that (Dish.slot is unique)."""

    party = models.ForeignKey(DinnerParty, on_delete=models.CASCADE, related_name="slots")
    course = models.CharField(max_length=10, choices=Course.choices)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["party", "course", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["party", "course", "position"], name="slot_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_course_display()} #{self.position}"


class Dish(models.Model):
    """A dish on a party's menu: the host's own, or one a guest brings for a slot."""

    party = models.ForeignKey(DinnerParty, on_delete=models.CASCADE, related_name="dishes")
    course = models.CharField(max_length=10, choices=Course.choices)
    name = models.CharField(_("dish"), max_length=120, validators=[validate_single_line_text])
    allergens = models.JSONField(default=list, blank=True, validators=[validate_allergens])
    allergens_complete = models.BooleanField(
        _("these are all its allergens"),
        default=False,
        help_text=_(
            "Tick only if you checked every ingredient: otherwise guests with "
            "allergies see “not confirmed”."
        ),
    )
    suits = models.JSONField(
        _("suits diets"), default=list, blank=True, validators=[validate_diets]
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dishes"
    )
    slot = models.OneToOneField(
        PotluckSlot, null=True, blank=True, on_delete=models.CASCADE, related_name="dish"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = _("dishes")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.name


class Audience(models.TextChoices):
    GOING = "going", _("Guests who are going")
    MAYBE = "maybe", _("Guests who said maybe")
    WAITLISTED = "waitlisted", _("The waitlist")
    ALL = "all", _("Everyone who replied (not those who can't go)")


def audience_statuses(audience: str) -> list[str]:
    """The RSVP statuses an announcement to `audience` reaches."""
    if audience == Audience.ALL:
        return [RSVPStatus.GOING, RSVPStatus.MAYBE, RSVPStatus.WAITLISTED]
    return [audience]


class Announcement(models.Model):
    """A host's message to guests: emailed, and shown on the party page."""

    party = models.ForeignKey(DinnerParty, on_delete=models.CASCADE, related_name="announcements")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="announcements"
    )
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.GOING)
    text = models.TextField(max_length=1000, validators=[validate_multiline_text])
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When it went out to the guests: None while it waits for its author to
    # confirm their email address (notifications.send_announcement).
    emailed_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.text[:50]


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    RETRYING = "retrying", _("Retrying")
    FAILED = "failed", _("Failed")


class EmailDeliveryQuerySet(models.QuerySet):
    def failed_recently(self, *, hours: int = 24):
        since = timezone.now() - timedelta(hours=hours)
        return self.filter(status=DeliveryStatus.FAILED, updated_at__gte=since)


class EmailDelivery(models.Model):
    """One email's fate (parties.notifications.deliver_email): sent, retrying
    after a transient SMTP failure (with the last error), or failed for good.
    The row is written once the email was tried; until then the email waits in
    the task queue (`manage.py tasks_status`). "Queued" marks a row an earlier
    version wrote before sending (its task's re-run tries it again)."""

    template = models.CharField(max_length=64)
    to = models.TextField(help_text=_("Recipients, comma-separated."))
    subject = models.TextField()
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Which run of which queued task sent it (a hash of the task's id, the template
    # and the recipients; blank outside a worker): a task run again after its worker
    # died finds the emails it already handled instead of sending them twice.
    task_key = models.CharField(max_length=64, blank=True, default="", editable=False)

    objects = EmailDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = _("email deliveries")
        indexes = [models.Index(fields=["status", "updated_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["task_key"],
                condition=~models.Q(task_key=""),
                name="email_delivery_once_per_task",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to} ({self.get_status_display()})"


class PendingReply(models.Model):
    """A reply sent from a party's preview by someone not logged in: it waits
    here until the link emailed to `email` is opened, and counts only then
    (services.guest_reply_confirm, once: `used_at`). parties/guest_replies.py."""

    party = models.ForeignKey(DinnerParty, on_delete=models.CASCADE, related_name="+")
    # The invite link it came through ("" from a public party's own page): a
    # private party's regenerated link no longer lets it in.
    invite_token = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=150, validators=[validate_single_line_text])
    email = models.EmailField(max_length=254, validators=[validate_single_line_text])
    status = models.CharField(max_length=10, choices=RSVPStatus.choices)
    plus_ones = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(MAX_PLUS_ONES)]
    )
    note = models.CharField(max_length=200, blank=True, validators=[validate_single_line_text])
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("reply waiting for its email link")
        verbose_name_plural = _("replies waiting for their email links")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} → {self.party_id} ({self.get_status_display()})"


class InvitationState(models.TextChoices):
    HELD = "held", _("Waiting for the host to confirm their address")
    INVITED = "invited", _("Invited")
    OPENED = "opened", _("Opened")
    REPLIED = "replied", _("Replied")


class InvitationQuerySet(models.QuerySet):
    def unanswered(self) -> "InvitationQuerySet":
        """Invitations that went out (not held) and got no reply: none through the
        link, and no reply to the party from an account with the invited address
        (in any letter case), whatever page it came from."""
        replied = RSVP.objects.filter(
            party=OuterRef("party"), guest__email__iexact=OuterRef("email")
        )
        return self.filter(state__in=[InvitationState.INVITED, InvitationState.OPENED]).exclude(
            Exists(replied)
        )


class Invitation(models.Model):
    """A personal invitation emailed by a host or co-host (parties/invitations.py):
    its link opens the party, even a private one, and a reply through it needs no
    password (the address is the one the email reached). Written by services.py."""

    party = models.ForeignKey(DinnerParty, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254, validators=[validate_single_line_text])
    name = models.CharField(max_length=150, blank=True, validators=[validate_single_line_text])
    token = models.CharField(max_length=64, unique=True, default=new_invite_token, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    state = models.CharField(
        max_length=10, choices=InvitationState.choices, default=InvitationState.INVITED
    )
    # The account that replied through the link (its reply is the guest's RSVP).
    guest = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The email's fate (sent, retrying, bounced): the latest one sent for it.
    delivery = models.ForeignKey(
        EmailDelivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    # The host's "remind those who haven't answered" (at most once a day per party).
    reminded_at = models.DateTimeField(null=True, blank=True)
    # The automatic reminder before the reply-by date (parties/schedule.py): once
    # per deadline (moving the deadline clears it).
    reply_reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["invited_by", "created_at"], name="invitation_by_day_idx"),
            # A member's pending invitations, found by their address.
            models.Index(Lower("email"), name="invitation_email_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                "party",
                Lower("email"),
                name="invitation_one_per_address_per_party",
                violation_error_message=_("This address is invited already."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.party_id} ({self.get_state_display()})"

    def get_absolute_url(self) -> str:
        return reverse("parties:invitation", args=[self.token])


class BatchedTaskResult(DBTaskResult):
    """A queued task as `parties.worker.BatchWorker` claims it: a success is
    noted on the row in memory and written with the rest of its batch's, in one
    UPDATE, instead of one save per task (`BatchWorker.record_successes`). A
    failure is saved at once, as the library's. The same table (a proxy)."""

    class Meta:
        proxy = True

    def set_successful(self, return_value) -> None:
        """What `DBTaskResult.set_successful` sets, not yet saved. A return value
        the row could not store fails the task here, as the library's save would."""
        json.dumps(return_value)
        self.status = TaskResultStatus.SUCCESSFUL
        self.finished_at = timezone.now()
        self.return_value = return_value
        self.exception_class_path = ""
        self.traceback = ""
