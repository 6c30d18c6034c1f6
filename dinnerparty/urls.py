from django.contrib import admin
from django.urls import include, path

from accounts.views import set_language
from dinnerparty.views import healthz
from parties.views import CalendarFeedView, HomeView

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("parties/", include("parties.urls")),
    # A member's private calendar feed (no login: calendar apps fetch it).
    path("calendar/<str:token>.ics", CalendarFeedView.as_view(), name="calendar_feed"),
    path("admin/", admin.site.urls),
    # The footer's language switcher: Django's own (django.conf.urls.i18n), which
    # also saves a member's choice on their profile. URLs are the same in every
    # language (no i18n_patterns).
    path("i18n/setlang/", set_language, name="set_language"),
]

# The database unavailable: a friendly 503 with Retry-After; anything else: 500.html.
handler500 = "dinnerparty.views.server_error"
