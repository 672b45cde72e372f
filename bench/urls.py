"""The product's URLs and one bench-only view that answers a constant: the framework's ceiling.

Only the benchmarks' web server loads it (``DJANGO_SETTINGS_MODULE=bench.settings``); the
product's URLconf (ketaminecare/urls.py) has no such view.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from ketaminecare.urls import handler404  # noqa: F401  (the root URLconf's 404 answer, as in the product)

CONSTANT = b'{"ok":true}'


def constant(request: HttpRequest) -> HttpResponse:
    """Through the whole middleware stack, no authentication, no database: a fixed body."""
    return HttpResponse(CONSTANT, content_type="application/json")


urlpatterns = [
    path("bench/constant/", constant, name="bench-constant"),
    path("", include("ketaminecare.urls")),
]
