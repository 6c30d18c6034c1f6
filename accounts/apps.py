from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    default = True  # "accounts" in INSTALLED_APPS; the admin's config is below
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        from accounts import sessions, two_factor  # noqa: F401 -- connect login receivers
        from accounts.signals import use_recorded_last_login

        use_recorded_last_login()
        from common import lookups  # noqa: F401 -- registers `__in` for out-of-range ids


class DinnerPartyAdminConfig(admin_apps.AdminConfig):
    """`django.contrib.admin`, on a site whose login is throttled like the site's
    (`accounts.admin_site`). INSTALLED_APPS names this class instead of the admin."""

    default = False  # not the config of "accounts" itself
    default_site = "accounts.admin_site.DinnerPartyAdminSite"
