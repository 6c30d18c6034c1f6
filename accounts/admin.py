from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts import sessions
from accounts.models import Session, User
from common.timezones import TimeZoneField
from parties import services


def ended_message(users: int, ended: int) -> str:
    accounts = ngettext("%(n)d account", "%(n)d accounts", users) % {"n": users}
    count = ngettext("%(n)d session", "%(n)d sessions", ended) % {"n": ended}
    return gettext("Logged out %(accounts)s everywhere (%(sessions)s ended).") % {
        "accounts": accounts,
        "sessions": count,
    }


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Dinner preferences"), {"fields": ("dietary_notes", "timezone", "language")}),
        (_("Email confirmation"), {"fields": ("email_confirmed_at", "pending_email")}),
        (_("Sessions"), {"fields": ("active_session_count",)}),
    )
    readonly_fields = ("email_confirmed_at", "pending_email", "active_session_count")
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "date_joined")
    search_fields = ("username", "email", "first_name", "last_name")
    actions = ["end_all_sessions"]
    change_form_template = "admin/accounts/user/change_form.html"

    @admin.display(description=_("Logged in on"))
    def active_session_count(self, obj: User) -> str:
        count = len(sessions.active_sessions(obj, current_key=None)) if obj.pk else 0
        return ngettext("%(n)d device", "%(n)d devices", count) % {"n": count}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if not request.user.is_superuser:
            # Only a superuser acts on superusers (ending their sessions, say).
            queryset = queryset.exclude(is_superuser=True)
        return queryset

    # Sessions end at once (database and cache), not on their next request: ASVS 7.4.2.
    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            ended = sessions.end_sessions(user=obj, keep=None)
            if ended:
                messages.info(request, ended_message(1, ended))

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "timezone":  # the site's picker, not free text
            return TimeZoneField(label=_("Time zone"), help_text=db_field.help_text)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    # Deleting an account frees the seats its replies held (and promotes the waitlist).
    def delete_model(self, request: HttpRequest, obj: User) -> None:
        sessions.end_sessions(user=obj, keep=None)
        services.user_delete(user=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for user in queryset:
            sessions.end_sessions(user=user, keep=None)
            services.user_delete(user=user)

    @admin.action(
        description=_("Log out everywhere (end all their sessions)"), permissions=["change"]
    )
    def end_all_sessions(self, request: HttpRequest, queryset: QuerySet) -> None:
        """ASVS 7.4.5: end the chosen accounts' sessions (the admin's own, but this one)."""
        users = list(queryset)
        ended = sum(self._end_sessions_of(request, user) for user in users)
        messages.success(request, ended_message(len(users), ended))

    def _end_sessions_of(self, request: HttpRequest, user: User) -> int:
        keep = request.session.session_key if user.pk == request.user.pk else None
        return sessions.end_sessions(user=user, keep=keep)

    def get_urls(self) -> list:
        return [
            path(
                "<path:object_id>/end-sessions/",
                self.admin_site.admin_view(require_POST(self.end_sessions_view)),
                name="accounts_user_end_sessions",
            ),
            *super().get_urls(),
        ]

    def end_sessions_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST from the user's page: log that user out everywhere."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            user = get_object_or_404(self.get_queryset(request), pk=int(object_id))
        except ValueError as error:
            raise Http404(_("No such user.")) from error
        ended = self._end_sessions_of(request, user)
        messages.success(request, ended_message(1, ended))
        return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))

    def render_change_form(self, request: HttpRequest, context: dict, *args, **kwargs):
        obj = kwargs.get("obj")
        context["can_end_sessions"] = bool(
            obj is not None
            and self.has_change_permission(request, obj)
            and Session.objects.filter(user=obj).exists()
        )
        return super().render_change_form(request, context, *args, **kwargs)
