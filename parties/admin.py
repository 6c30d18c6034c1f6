import csv
from datetime import UTC

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from common.timezones import TimeZoneField
from parties import guest_list, services
from parties.forms import ADDRESS_AUTO, ADDRESS_EVERYONE, ADDRESS_TABLE, PartyForm
from parties.guest_list import csv_safe
from parties.models import (
    RSVP,
    DinnerParty,
    Dish,
    EmailDelivery,
    Invitation,
    PendingReply,
    RSVPStatus,
    Visibility,
    validate_party_start,
)


def scoped_to_host(request: HttpRequest) -> bool:
    """Staff who aren't superusers manage only their own parties."""
    return not request.user.is_superuser


class AutocompleteSelectOfKeys(AutocompleteSelect):
    """Django's autocomplete, showing a form posted back with something that is no
    key at all ("1.5") as nothing chosen: Django's own looks the chosen rows up
    with it and raises ValueError, a 500 instead of the form's error."""

    def optgroups(self, name, value, attr=None):
        def is_key(item) -> bool:
            try:
                self.field.target_field.to_python(item)
            except ValidationError:
                return False
            return True

        return super().optgroups(name, [item for item in value if is_key(item)], attr)


class KeysOnlyAutocomplete:
    """Admin classes whose autocomplete fields use `AutocompleteSelectOfKeys`."""

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = AutocompleteSelectOfKeys(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class RSVPInline(KeysOnlyAutocomplete, admin.TabularInline):
    model = RSVP
    extra = 0
    fields = ("guest", "status", "plus_ones", "note", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("guest",)

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> tuple:
        fields = super().get_readonly_fields(request, obj)
        # Hosts can't browse the user directory: they manage the replies they got.
        return (*fields, "guest") if scoped_to_host(request) else fields

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return not scoped_to_host(request) and super().has_add_permission(request, obj)


class DinnerPartyAdminForm(forms.ModelForm):
    # The site's three choices (parties.forms.PartyForm), not the bare flag.
    address_shown_to = PartyForm.base_fields["address_shown_to"]
    timezone = TimeZoneField(
        label=_("Time zone"), help_text=_("Times are entered and shown in this zone.")
    )
    # The main dish's tags as tick boxes, as on the site's form.
    main_dish_allergens = PartyForm.base_fields["main_dish_allergens"]
    main_dish_suits = PartyForm.base_fields["main_dish_suits"]

    class Meta:
        model = DinnerParty
        fields = ("host", *PartyForm.Meta.fields)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["address_shown_to"] = (
                ADDRESS_TABLE if self.instance.hide_address else ADDRESS_EVERYONE
            )

    def clean(self) -> dict:
        cleaned_data = super().clean()
        if "address_shown_to" not in self.errors:
            # As the site decides it (PartyForm.clean).
            shown_to = cleaned_data.get("address_shown_to") or ADDRESS_AUTO
            hide = shown_to == ADDRESS_TABLE or (
                shown_to == ADDRESS_AUTO and cleaned_data.get("visibility") == Visibility.PRIVATE
            )
            cleaned_data["hide_address"] = self.instance.hide_address = hide
        return cleaned_data

    def model_changes(self) -> dict:
        """The party's fields as edited (the service keeps only real changes)."""
        changes = {name: self.cleaned_data[name] for name in self.changed_data}
        changes.pop("address_shown_to", None)
        return changes | {"hide_address": self.cleaned_data["hide_address"]}

    def clean_starts_at(self):
        starts_at = self.cleaned_data["starts_at"]
        # As on the site: a new time from now to five years ahead (which also keeps
        # it clear of the calendar's ends, where saving or the .ics would overflow).
        if "starts_at" in self.changed_data:  # (compared to the second, as shown)
            validate_party_start(starts_at)
        return starts_at

    def clean_seats(self) -> int:
        seats = self.cleaned_data["seats"]
        if self.instance.pk and seats < self.instance.seats_taken:
            raise forms.ValidationError(str(services.SeatsBelowTaken(self.instance.seats_taken)))
        return seats


def rendered(response: HttpResponse) -> HttpResponse:
    return response.render() if isinstance(response, SimpleTemplateResponse) else response


def in_utc_if_off_the_calendar(view):
    """The admin shows times in the admin's zone, where a party stored within a
    day of the calendar's ends (before such dates were refused) is off it
    (OverflowError): such a page is shown again, times in UTC. Safe to run twice:
    the change form runs in a transaction, and actions redirect before any list
    is drawn."""

    def wrapper(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return rendered(view(self, request, *args, **kwargs))
        except OverflowError:
            with timezone.override(UTC):
                return rendered(view(self, request, *args, **kwargs))

    return wrapper


@admin.register(DinnerParty)
class DinnerPartyAdmin(KeysOnlyAutocomplete, admin.ModelAdmin):
    form = DinnerPartyAdminForm
    list_display = ("title", "host", "starts_at", "seats", "seats_taken", "waitlisted")
    list_filter = ("starts_at", "visibility")
    search_fields = ("title", "venue", "main_dish", "host__username")
    date_hierarchy = "starts_at"
    autocomplete_fields = ("host",)
    readonly_fields = ("seats_taken", "invite_token", "created_at", "updated_at")
    inlines = [RSVPInline]
    actions = ["export_guest_lists"]
    list_select_related = ("host",)

    @in_utc_if_off_the_calendar
    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        return super().changelist_view(request, extra_context)

    @in_utc_if_off_the_calendar
    def changeform_view(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return super().changeform_view(request, *args, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = (
            super()
            .get_queryset(request)
            .annotate(
                waitlisted_count=Count("rsvps", filter=Q(rsvps__status=RSVPStatus.WAITLISTED))
            )
        )
        if scoped_to_host(request):
            # Their own parties and those they co-host.
            queryset = queryset.filter(pk__in=DinnerParty.objects.editable_by(request.user))
        return queryset

    @admin.display(description=_("waitlisted"), ordering="waitlisted_count")
    def waitlisted(self, party: DinnerParty) -> int:
        return party.waitlisted_count

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> tuple:
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "host") if scoped_to_host(request) else fields

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Co-hosts run a party but only its host may cancel it.
        if obj is not None and scoped_to_host(request) and obj.host_id != request.user.pk:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: DinnerParty, form, change: bool) -> None:
        if scoped_to_host(request) and not change:
            obj.host = request.user  # a co-host editing keeps the party's host
        if change:
            try:
                services.party_update(party=obj, changes=form.model_changes())
            except services.SeatsBelowTaken as error:
                messages.error(request, str(error))
        else:
            services.party_create(party=obj)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if formset.model is not RSVP:
            return super().save_formset(request, form, formset, change)
        # Every RSVP change goes through the same rules as the site's.
        formset.save(commit=False)
        services.rsvp_delete(rsvps=formset.deleted_objects)
        for rsvp_form in formset.forms:
            if rsvp_form in formset.deleted_forms or not rsvp_form.has_changed():
                continue
            data = rsvp_form.cleaned_data
            # Read-only for hosts (not in the form): the reply's own guest.
            guest = rsvp_form.instance.guest
            status = data["status"]
            if status == RSVPStatus.WAITLISTED:
                status = RSVPStatus.GOING
            try:
                outcome = services.rsvp_submit(
                    party=form.instance,
                    guest=guest,
                    status=status,
                    plus_ones=data["plus_ones"],
                    note=data["note"],
                )
            except services.RsvpError as error:
                messages.error(
                    request, gettext("%(guest)s: %(error)s") % {"guest": guest, "error": error}
                )
                continue
            if outcome.status == RSVPStatus.WAITLISTED:
                messages.warning(
                    request,
                    gettext("%(guest)s is waitlisted (#%(position)d): the table is full.")
                    % {"guest": guest, "position": outcome.waitlist_position},
                )
        return None

    def delete_model(self, request: HttpRequest, obj: DinnerParty) -> None:
        services.party_delete(party=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for party in queryset.select_related("host"):
            services.party_delete(party=party)

    @admin.action(description=_("Download guest lists as CSV"))
    def export_guest_lists(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="guest-lists.csv"'
        writer = csv.writer(response)
        writer.writerow(
            [
                "party",
                "starts_at",
                "guest",
                "email",
                "status",
                "plus_ones",
                "note",
                "diets",
                "allergies",
                "plus_ones_diets",
                "plus_ones_allergies",
                "dietary_notes",
                "brings",
            ]
        )
        rsvps = (
            RSVP.objects.filter(party__in=queryset)
            .select_related("party", "guest")
            .order_by("party__starts_at", "party_id", "status", "created_at")
        )
        dishes = Dish.objects.filter(party__in=queryset).order_by("created_at", "pk")
        for line in guest_list.guest_lines(rsvps, dishes):
            rsvp = line.rsvp
            writer.writerow(
                [
                    csv_safe(rsvp.party.title),
                    rsvp.party.local_starts_at.isoformat(),
                    csv_safe(rsvp.guest.username),
                    csv_safe(rsvp.guest.email),
                    rsvp.status,
                    rsvp.plus_ones,
                    csv_safe(rsvp.note),
                    csv_safe(", ".join(line.diets)),
                    csv_safe(", ".join(line.allergies)),
                    csv_safe(", ".join(line.plus_one_diets)),
                    csv_safe(", ".join(line.plus_one_allergies)),
                    csv_safe(line.dietary_notes),
                    csv_safe("; ".join(line.brings)),
                ]
            )
        return response


class RSVPAdminForm(forms.ModelForm):
    def clean(self) -> dict:
        cleaned_data = super().clean()
        party = cleaned_data.get("party") or getattr(self.instance, "party", None)
        guest = cleaned_data.get("guest") or getattr(self.instance, "guest", None)
        # Refuse here, so the admin never reports a reply as saved when it wasn't.
        if party is not None and guest is not None:
            refusal = services.rsvp_refusal(party=party, guest=guest)
            if refusal:
                raise forms.ValidationError(refusal)
        return cleaned_data


@admin.register(RSVP)
class RSVPAdmin(KeysOnlyAutocomplete, admin.ModelAdmin):
    form = RSVPAdminForm
    list_display = ("party", "guest", "status", "plus_ones", "created_at")
    list_filter = ("status",)
    search_fields = ("party__title", "guest__username", "guest__email")
    autocomplete_fields = ("party", "guest")
    list_select_related = ("party", "guest")
    readonly_fields = ("waitlisted_at", "created_at", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> tuple:
        fields = super().get_readonly_fields(request, obj)
        # A reply belongs to one guest and one party; change its answer, not its owner.
        return (*fields, "party", "guest") if obj is not None else fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if scoped_to_host(request):
            queryset = queryset.filter(party__in=DinnerParty.objects.editable_by(request.user))
        return queryset

    def get_autocomplete_fields(self, request: HttpRequest) -> tuple:
        fields = super().get_autocomplete_fields(request)
        # Hosts can't search the user directory (its search answers them 403):
        # they pick from a plain list of their own guests instead.
        return tuple(f for f in fields if f != "guest") if scoped_to_host(request) else fields

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if scoped_to_host(request):
            parties = DinnerParty.objects.editable_by(request.user)
            if db_field.name == "party":
                kwargs["queryset"] = parties
            elif db_field.name == "guest":
                # Only people who already replied to one of their parties: any
                # other id would attach (and email, and export) a stranger.
                repliers = RSVP.objects.filter(party__in=parties).values("guest_id")
                kwargs["queryset"] = db_field.remote_field.model._default_manager.filter(
                    pk__in=repliers
                ).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: RSVP, form, change: bool) -> None:
        status = RSVPStatus.GOING if obj.status == RSVPStatus.WAITLISTED else obj.status
        try:
            outcome = services.rsvp_submit(
                party=obj.party,
                guest=obj.guest,
                status=status,
                plus_ones=obj.plus_ones,
                note=obj.note,
            )
        except services.RsvpError as error:
            messages.error(request, str(error))
            request.rsvp_refused = True  # so no "changed successfully" follows
            return
        # What was saved, not what was asked: "changed successfully (Waitlisted)".
        obj.pk, obj.status, obj.plus_ones = outcome.rsvp.pk, outcome.status, outcome.rsvp.plus_ones
        if outcome.status == RSVPStatus.WAITLISTED:
            messages.warning(
                request,
                gettext("The table is full: waitlisted at #%(position)d.")
                % {"position": outcome.waitlist_position},
            )

    def message_user(self, request: HttpRequest, message, level=messages.INFO, *args, **kwargs):
        if getattr(request, "rsvp_refused", False) and level == messages.SUCCESS:
            return
        super().message_user(request, message, level, *args, **kwargs)

    def delete_model(self, request: HttpRequest, obj: RSVP) -> None:
        services.rsvp_delete(rsvps=[obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.rsvp_delete(rsvps=list(queryset))


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(admin.ModelAdmin):
    """What became of each email: read-only, filtered by fate and kind."""

    list_display = ("subject", "to", "status", "attempts", "last_error", "created_at")
    list_filter = ("status", "template", "created_at")
    search_fields = ("to", "subject")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class PartyRecordAdmin(admin.ModelAdmin):
    """A record the site writes about a party (invitations, waiting replies): read
    here, never added or changed, and a staff host sees only their own parties'."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if scoped_to_host(request):
            queryset = queryset.filter(party__in=DinnerParty.objects.editable_by(request.user))
        return queryset

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(PartyRecordAdmin):
    """Who was invited by email and how far each got. Read-only: invitations are
    made by the hosts' paste (services.invitations_send, with its limits and
    emails) and move on by themselves; one may be deleted (withdrawn)."""

    list_display = (
        "email",
        "name",
        "party",
        "state",
        "email_fate",
        "invited_by",
        "created_at",
        "opened_at",
        "replied_at",
    )
    list_filter = ("state", ("party", admin.RelatedOnlyFieldListFilter))
    search_fields = ("email", "name")
    list_select_related = ("party", "invited_by", "delivery")
    date_hierarchy = "created_at"
    fields = (
        "party",
        "email",
        "name",
        "invited_by",
        "state",
        "guest",
        "delivery",
        "created_at",
        "sent_at",
        "opened_at",
        "replied_at",
        "reminded_at",
        "reply_reminder_sent_at",
    )
    readonly_fields = fields

    @admin.display(description=_("email"))
    def email_fate(self, invitation: Invitation) -> str:
        delivery = invitation.delivery
        return delivery.get_status_display() if delivery else "—"


@admin.register(PendingReply)
class PendingReplyAdmin(PartyRecordAdmin):
    """Replies from a party's preview waiting for their email link: read-only (the
    link makes them count, services.guest_reply_confirm)."""

    list_display = ("email", "name", "party", "status", "plus_ones", "created_at", "used_at")
    list_filter = ("status", ("party", admin.RelatedOnlyFieldListFilter))
    search_fields = ("email", "name")
    list_select_related = ("party",)
    date_hierarchy = "created_at"
    fields = (
        "party",
        "name",
        "email",
        "status",
        "plus_ones",
        "note",
        "invite_token",
        "created_at",
        "used_at",
    )
    readonly_fields = fields
