from django.contrib.admin.apps import AdminConfig


class DinnerPartyAdminConfig(AdminConfig):
    """The admin, on a site whose login is throttled like the site's."""

    default_site = "dinnerparty.admin.DinnerPartyAdminSite"
