from datetime import UTC

from django import forms
from django.utils import timezone

from dinnerparty.timezones import timezone_choices
from parties.models import RSVP, DinnerParty, RSVPStatus

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


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

    class Meta:
        model = DinnerParty
        fields = (
            "title",
            "starts_at",
            "timezone",
            "venue",
            "main_dish",
            "seats",
            "description",
            "visibility",
        )
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "visibility": forms.RadioSelect,
            "seats": forms.NumberInput(attrs={"min": 1, "max": 500}),
        }

    def __init__(self, *args, host=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            local = self.instance.local_starts_at.replace(tzinfo=None)
            self.initial["starts_at"] = local
        elif host is not None:
            self.initial.setdefault("timezone", host.timezone)

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
            # A time the clocks skip comes back from the round trip an hour off.
            if starts_at.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
                self.add_error(
                    "starts_at",
                    f"{naive:%H:%M} doesn't exist on that day in {zone_name}: "
                    "the clocks go forward. Pick another time.",
                )
            changed = not self.instance.pk or starts_at != self.instance.starts_at
            if changed and starts_at <= timezone.now():
                self.add_error("starts_at", "Pick a time in the future.")
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
        choices=[
            (RSVPStatus.GOING, "Going"),
            (RSVPStatus.MAYBE, "Maybe"),
            (RSVPStatus.DECLINED, "Can't go"),
        ],
        widget=forms.RadioSelect,
    )

    class Meta:
        model = RSVP
        fields = ("status", "plus_ones", "note")
        widgets = {"plus_ones": forms.NumberInput(attrs={"min": 0, "max": 5})}
        labels = {"note": "Note for the host"}
