from datetime import UTC, datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.html import escape
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from common.food import COURSE_PLURALS, Allergen, Course, Diet
from common.forms import codes_field
from common.text import validate_multiline_text, validate_single_line_text
from common.timezones import timezone_choices
from parties.invitations import PER_PASTE, Pasted, parse_addresses
from parties.models import (
    MAX_PLUS_ONES,
    RSVP,
    Announcement,
    DinnerParty,
    Dish,
    RSVPStatus,
    Visibility,
    local_time,
    validate_party_start,
)

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
INPUT_FORMATS = [DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
LONGEST_PARTY = timedelta(days=7)
ADDRESS_AUTO, ADDRESS_TABLE, ADDRESS_EVERYONE = "auto", "table", "everyone"


class WallClockDateTimeField(forms.DateTimeField):
    """Reads the typed time without the active (host's) zone, which may skip or
    repeat that hour; the form then places it in the party's zone."""

    def to_python(self, value):
        with timezone.override(UTC):  # no gaps or repeats in UTC
            return super().to_python(value)


class PartyForm(forms.ModelForm):
    """Create or edit a party. `starts_at` is typed as a wall-clock time in the
    party's own time zone, whatever zone the host's browser is in."""

    starts_at = WallClockDateTimeField(
        label=_("Starts at"),
        input_formats=INPUT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=_("In the party's time zone."),
    )
    ends_at = WallClockDateTimeField(
        label=_("Ends at"),
        required=False,
        input_formats=INPUT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=_("Optional, in the party's time zone: empty means three hours after the start."),
    )
    reply_by = WallClockDateTimeField(
        label=_("Reply by"),
        required=False,
        input_formats=INPUT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=_(
            "Optional, in the party's time zone: new replies close then, and you get "
            "the final numbers by email."
        ),
    )
    timezone = forms.ChoiceField(label=_("Time zone"), choices=timezone_choices)
    address_shown_to = forms.ChoiceField(
        label=_("Who sees the exact address"),
        choices=[
            (ADDRESS_AUTO, _("Private party: only guests at the table; public: every member")),
            (ADDRESS_TABLE, _("Only guests at the table (others see the rough area)")),
            (ADDRESS_EVERYONE, _("Everyone who can see the party")),
        ],
        initial=ADDRESS_AUTO,
        help_text=_(
            "On a public party, “everyone who can see the party” is every member "
            "of DinnerParty: for a home address, choose “only guests at the table”."
        ),
        required=False,
        widget=forms.RadioSelect,
    )

    main_dish_allergens = codes_field(Allergen, label=_("The main contains"))
    main_dish_suits = codes_field(Diet, label=_("The main suits"))

    class Meta:
        model = DinnerParty
        fields = (
            "title",
            "starts_at",
            "ends_at",
            "reply_by",
            "timezone",
            "venue",
            "area",
            "main_dish",
            "main_dish_allergens",
            "main_dish_allergens_complete",
            "main_dish_suits",
            "seats",
            "description",
            "table_note",
            "visibility",
        )
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "table_note": forms.Textarea(attrs={"rows": 2}),
            "visibility": forms.RadioSelect,
            "seats": forms.NumberInput(attrs={"min": 1, "max": 500}),
        }

    def __init__(self, *args, host=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            local = self.instance.local_starts_at
            self.initial["starts_at"] = local.replace(tzinfo=None)
            for name in ("ends_at", "reply_by"):
                moment = getattr(self.instance, name)
                if moment is not None:
                    self.initial[name] = local_time(moment, local.tzinfo).replace(tzinfo=None)
            if local.tzinfo is UTC:  # off the calendar in its own zone: shown in UTC
                self.initial["timezone"] = "UTC"
            self.initial["address_shown_to"] = (
                ADDRESS_TABLE if self.instance.hide_address else ADDRESS_EVERYONE
            )
        elif host is not None:
            self.initial.setdefault("timezone", host.timezone)

    def model_changes(self) -> dict:
        """The party's fields as edited (the service keeps only real changes)."""
        return {name: self.cleaned_data[name] for name in (*self._meta.fields, "hide_address")}

    def clean(self):
        cleaned_data = super().clean()
        starts_at = cleaned_data.get("starts_at")
        zone_name = cleaned_data.get("timezone")
        if starts_at and zone_name:
            # The field read the wall-clock time as UTC; place it in the party's zone.
            naive = starts_at.replace(tzinfo=None)
            zone = DinnerParty(timezone=zone_name).zone
            starts_at = timezone.make_aware(naive, zone)
            cleaned_data["starts_at"] = starts_at
            changed = not self.instance.pk or starts_at != self.instance.starts_at
            try:
                if changed:
                    # First: only a date inside the window is safe to convert below.
                    validate_party_start(starts_at)
                # A time the clocks skip comes back from the round trip an hour off.
                if starts_at.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
                    raise forms.ValidationError(
                        _(
                            "%(time)s doesn't exist on that day in %(zone)s: "
                            "the clocks go forward. Pick another time."
                        ),
                        params={"time": f"{naive:%H:%M}", "zone": zone_name},
                        code="skipped_time",
                    )
            except forms.ValidationError as error:
                self.add_error("starts_at", error)
            else:
                self._clean_end_and_reply_by(cleaned_data, starts_at, zone)
        shown_to = cleaned_data.get("address_shown_to") or ADDRESS_AUTO
        if "address_shown_to" not in self.errors:
            hide = shown_to == ADDRESS_TABLE or (
                shown_to == ADDRESS_AUTO and cleaned_data.get("visibility") == Visibility.PRIVATE
            )
            self.instance.hide_address = hide
            cleaned_data["hide_address"] = hide
        seats = cleaned_data.get("seats")
        if self.instance.pk and seats is not None and seats < self.instance.seats_taken:
            taken = self.instance.seats_taken
            self.add_error(
                "seats",
                ngettext(
                    "%(taken)d seat is already taken, so the table needs at least %(taken)d.",
                    "%(taken)d seats are already taken, so the table needs at least %(taken)d.",
                    taken,
                )
                % {"taken": taken},
            )
        return cleaned_data

    def _clean_end_and_reply_by(self, cleaned_data: dict, starts_at: datetime, zone) -> None:
        """Place the end and the reply-by date in the party's zone, as the start:
        the end after the start (within LONGEST_PARTY), the reply-by date before
        it and, when it is set or moved, not already past."""
        for name in ("ends_at", "reply_by"):
            typed = cleaned_data.get(name)
            if typed is None:
                continue
            naive = typed.replace(tzinfo=None)
            moment = timezone.make_aware(naive, zone)
            cleaned_data[name] = moment
            try:
                if name == "ends_at":
                    if moment <= starts_at:
                        raise forms.ValidationError(
                            _("The end must come after the start."), code="ends_before_start"
                        )
                    if moment - starts_at > LONGEST_PARTY:
                        raise forms.ValidationError(
                            _("End the party within a week of its start."), code="too_long"
                        )
                else:
                    if moment >= starts_at:
                        raise forms.ValidationError(
                            _("The reply-by date must come before the start."),
                            code="reply_by_after_start",
                        )
                    if moment != self.instance.reply_by and moment <= timezone.now():
                        raise forms.ValidationError(
                            _("Pick a reply-by date in the future."), code="in_the_past"
                        )
                if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
                    raise forms.ValidationError(
                        _(
                            "%(time)s doesn't exist on that day in %(zone)s: "
                            "the clocks go forward. Pick another time."
                        ),
                        params={"time": f"{naive:%H:%M}", "zone": zone.key},
                        code="skipped_time",
                    )
            except forms.ValidationError as error:
                self.add_error(name, error)


class RSVPForm(forms.ModelForm):
    status = forms.ChoiceField(
        label=_("Your reply"),
        error_messages={"required": _("Choose going, maybe or can't go.")},
        choices=[
            (RSVPStatus.GOING, _("Going")),
            (RSVPStatus.MAYBE, _("Maybe")),
            (RSVPStatus.DECLINED, _("Can't go")),
        ],
        widget=forms.RadioSelect,
    )

    class Meta:
        model = RSVP
        fields = ("status", "plus_ones", "plus_one_diets", "plus_one_allergies", "note")
        widgets = {"plus_ones": forms.NumberInput(attrs={"min": 0, "max": 5})}
        labels = {"note": _("Note for the host")}

    plus_one_diets = codes_field(Diet, label=_("Your plus-ones' diets"))
    plus_one_allergies = codes_field(Allergen, label=_("Your plus-ones' allergies"))

    def validate_constraints(self) -> None:
        """The model's one constraint on these fields (0-5 plus-ones) is also the
        field's own validators, checked already; Django would ask the database
        again (a query on every reply). The database still enforces it."""


class GuestReplyForm(forms.Form):
    """A reply from a party's preview by someone who is not logged in: it counts
    once the link emailed to the address is opened (parties/guest_replies.py)."""

    name = forms.CharField(
        label=_("Your name"), max_length=150, validators=[validate_single_line_text]
    )
    email = forms.EmailField(
        label=_("Your email"),
        max_length=254,
        validators=[validate_single_line_text],
        help_text=_("We email you a link: your reply counts when you open it."),
    )
    status = forms.ChoiceField(
        label=_("Your reply"),
        choices=[
            (RSVPStatus.GOING, _("Going")),
            (RSVPStatus.MAYBE, _("Maybe")),
            (RSVPStatus.DECLINED, _("Can't go")),
        ],
        initial=RSVPStatus.GOING,
        widget=forms.RadioSelect,
    )
    plus_ones = forms.IntegerField(
        label=_("Plus-ones"),
        min_value=0,
        max_value=MAX_PLUS_ONES,
        initial=0,
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_PLUS_ONES}),
    )
    note = forms.CharField(
        label=_("Note for the host"),
        max_length=200,
        required=False,
        validators=[validate_single_line_text],
        help_text=_("E.g. what you'll bring, or when you'll arrive."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"


def paste_help() -> str:
    return gettext(
        "One a line: “Name <address>” or the address alone; up to %(max)d "
        "at a time. Each gets a personal link that takes a reply without a password."
    ) % {"max": PER_PASTE}


class InvitationForm(forms.Form):
    """Addresses a host pastes to invite: one a line, `Name <address>` or the
    address alone (parties/invitations.py reads them)."""

    addresses = forms.CharField(
        label=_("Invite by email"),
        max_length=20_000,
        validators=[validate_multiline_text],
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "Maria Lopez <maria@example.com>"}),
        # (Escaped: crispy-forms shows help texts as HTML, and "<address>" is a tag.)
        help_text=lazy(lambda: escape(paste_help()), str)(),
    )

    pasted: Pasted

    def clean_addresses(self) -> str:
        text = self.cleaned_data["addresses"]
        self.pasted = parse_addresses(text)
        if len(self.pasted.valid) > PER_PASTE:
            raise forms.ValidationError(
                _("Paste at most %(max)d addresses at a time (%(given)d given)."),
                params={"max": PER_PASTE, "given": len(self.pasted.valid)},
                code="too_many",
            )
        if not self.pasted.valid and not self.pasted.invalid:
            raise forms.ValidationError(_("Paste at least one address."), code="required")
        return text


class InvitationReplyForm(forms.Form):
    """A reply through a personal invitation: one tap on a reply's button sends it."""

    status = forms.ChoiceField(
        choices=[
            (RSVPStatus.GOING, _("Going")),
            (RSVPStatus.MAYBE, _("Maybe")),
            (RSVPStatus.DECLINED, _("Can't go")),
        ],
    )
    plus_ones = forms.IntegerField(
        label=_("Plus-ones"),
        min_value=0,
        max_value=MAX_PLUS_ONES,
        required=False,
        initial=0,
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_PLUS_ONES}),
    )
    note = forms.CharField(
        label=_("Note for the host"),
        max_length=200,
        required=False,
        validators=[validate_single_line_text],
    )

    def clean_plus_ones(self) -> int:
        return self.cleaned_data["plus_ones"] or 0


class ComeWithFewerForm(forms.Form):
    """A waitlisted guest's one tap: take the seats free now, with this many plus-ones."""

    plus_ones = forms.IntegerField(
        min_value=0,
        max_value=MAX_PLUS_ONES,
        error_messages={
            "required": _("Say how many plus-ones you're bringing."),
            "invalid": _("Plus-ones must be a whole number."),
        },
    )


class DishForm(forms.ModelForm):
    """A dish with its tags: the host's own, or one a guest brings for a slot."""

    allergens = codes_field(Allergen, label=_("Contains"))
    suits = codes_field(Diet, label=_("Suits"))

    class Meta:
        model = Dish
        fields = ("course", "name", "allergens", "allergens_complete", "suits")

    def tags(self) -> dict:
        return {
            name: self.cleaned_data[name] for name in ("allergens", "allergens_complete", "suits")
        }


class PotluckForm(forms.Form):
    """How many dishes of each course the host wants guests to bring."""

    def __init__(self, *args, counts: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        for course in Course.values:
            self.fields[course] = forms.IntegerField(
                label=capfirst(_("%(dishes)s wanted") % {"dishes": COURSE_PLURALS[course]}),
                min_value=0,
                max_value=50,
                initial=counts.get(course, 0),
                widget=forms.NumberInput(attrs={"min": 0, "max": 50}),
            )


class CohostForm(forms.Form):
    username = forms.CharField(
        label=_("Add a co-host by username"),
        max_length=150,
        help_text=_("Someone who replied, or any member's username."),
    )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        self.user = User.objects.filter(username__iexact=username).first()
        if self.user is None:
            raise forms.ValidationError(_("No member has that username."), code="unknown_user")
        return username


class AnnouncementForm(forms.ModelForm):
    class Meta:
        model = Announcement
        fields = ("audience", "text")
        labels = {"audience": _("Send to"), "text": _("Message")}
        widgets = {"text": forms.Textarea(attrs={"rows": 3, "maxlength": 1000})}
