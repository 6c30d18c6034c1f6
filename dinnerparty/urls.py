from django.contrib import admin
from django.urls import include, path

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
]

# The database unavailable: a friendly 503 with Retry-After; anything else: 500.html.
handler500 = "dinnerparty.views.server_error"
