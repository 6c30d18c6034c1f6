from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import User
from common.timezones import TimeZoneField
from parties import services


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Dinner preferences", {"fields": ("dietary_notes", "timezone")}),
        ("Email confirmation", {"fields": ("email_confirmed_at", "pending_email")}),
    )
    readonly_fields = ("email_confirmed_at", "pending_email")
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

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "timezone":  # the site's picker, not free text
            return TimeZoneField(label="Time zone", help_text=db_field.help_text)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    # Deleting an account frees the seats its replies held (and promotes the waitlist).
    def delete_model(self, request: HttpRequest, obj: User) -> None:
        services.user_delete(user=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for user in queryset:
            services.user_delete(user=user)
