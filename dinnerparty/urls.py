from django.contrib import admin
from django.urls import include, path

from dinnerparty.views import healthz
from parties.views import HomeView

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("parties/", include("parties.urls")),
    path("admin/", admin.site.urls),
]

# The database unavailable: a friendly 503 with Retry-After; anything else: 500.html.
handler500 = "dinnerparty.views.server_error"
