from datetime import UTC

from django import forms
from django.utils import timezone

from accounts.models import User
from common.food import COURSE_PLURALS, Allergen, Course, Diet
from common.forms import codes_field
from common.timezones import timezone_choices
from parties.models import (
    MAX_PLUS_ONES,
    RSVP,
    Announcement,
    DinnerParty,
    Dish,
    RSVPStatus,
    Visibility,
    validate_party_start,
)

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
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
        label="Starts at",
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text="In the party's time zone.",
    )
    timezone = forms.ChoiceField(label="Time zone", choices=timezone_choices)
    address_shown_to = forms.ChoiceField(
        label="Who sees the exact address",
        choices=[
            (ADDRESS_AUTO, "Private party: only guests at the table; public: every member"),
            (ADDRESS_TABLE, "Only guests at the table (others see the rough area)"),
            (ADDRESS_EVERYONE, "Everyone who can see the party"),
        ],
        initial=ADDRESS_AUTO,
        help_text="On a public party, “everyone who can see the party” is every member "
        "of DinnerParty: for a home address, choose “only guests at the table”.",
        required=False,
        widget=forms.RadioSelect,
    )

    main_dish_allergens = codes_field(Allergen, label="The main contains")
    main_dish_suits = codes_field(Diet, label="The main suits")

    class Meta:
        model = DinnerParty
        fields = (
            "title",
            "starts_at",
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
                        f"{naive:%H:%M} doesn't exist on that day in {zone_name}: "
                        "the clocks go forward. Pick another time.",
                        code="skipped_time",
                    )
            except forms.ValidationError as error:
                self.add_error("starts_at", error)
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
                f"{taken} seats are already taken, so the table needs at least {taken}.",
            )
        return cleaned_data


class RSVPForm(forms.ModelForm):
    status = forms.ChoiceField(
        label="Your reply",
        error_messages={"required": "Choose going, maybe or can't go."},
        choices=[
            (RSVPStatus.GOING, "Going"),
            (RSVPStatus.MAYBE, "Maybe"),
            (RSVPStatus.DECLINED, "Can't go"),
        ],
        widget=forms.RadioSelect,
    )

    class Meta:
        model = RSVP
        fields = ("status", "plus_ones", "plus_one_diets", "plus_one_allergies", "note")
        widgets = {"plus_ones": forms.NumberInput(attrs={"min": 0, "max": 5})}
        labels = {"note": "Note for the host"}

    plus_one_diets = codes_field(Diet, label="Your plus-ones' diets")
    plus_one_allergies = codes_field(Allergen, label="Your plus-ones' allergies")

    def validate_constraints(self) -> None:
        """The model's one constraint on these fields (0-5 plus-ones) is also the
        field's own validators, checked already; Django would ask the database
        again (a query on every reply). The database still enforces it."""


class ComeWithFewerForm(forms.Form):
    """A waitlisted guest's one tap: take the seats free now, with this many plus-ones."""

    plus_ones = forms.IntegerField(
        min_value=0,
        max_value=MAX_PLUS_ONES,
        error_messages={
            "required": "Say how many plus-ones you're bringing.",
            "invalid": "Plus-ones must be a whole number.",
        },
    )


class DishForm(forms.ModelForm):
    """A dish with its tags: the host's own, or one a guest brings for a slot."""

    allergens = codes_field(Allergen, label="Contains")
    suits = codes_field(Diet, label="Suits")

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
                label=f"{COURSE_PLURALS[course].capitalize()} wanted",
                min_value=0,
                max_value=50,
                initial=counts.get(course, 0),
                widget=forms.NumberInput(attrs={"min": 0, "max": 50}),
            )


class CohostForm(forms.Form):
    username = forms.CharField(
        label="Add a co-host by username",
        max_length=150,
        help_text="Someone who replied, or any member's username.",
    )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        self.user = User.objects.filter(username__iexact=username).first()
        if self.user is None:
            raise forms.ValidationError("No member has that username.", code="unknown_user")
        return username


class AnnouncementForm(forms.ModelForm):
    class Meta:
        model = Announcement
        fields = ("audience", "text")
        labels = {"audience": "Send to", "text": "Message"}
        widgets = {"text": forms.Textarea(attrs={"rows": 3, "maxlength": 1000})}
