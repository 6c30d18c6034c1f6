"""The site's URLs plus the benchmark's ceiling, `/bench/hello` (bench.settings)."""

from django.urls import path

from bench.views import hello_world
from dinnerparty.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    *site_urlpatterns,
    path("bench/hello", hello_world, name="bench_hello"),
]
