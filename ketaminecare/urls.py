from django.contrib import admin
from django.urls import include, path

from ketaminecare.docs_views import DocsView, SchemaView
from ketaminecare.health import health
from ketaminecare.metrics import metrics

# A path no route matches answers JSON in the one error shape under /api/ (HTML elsewhere).
handler404 = "ketaminecare.api.exceptions.not_found"

admin.site.site_header = "KetamineCare"
admin.site.site_title = "KetamineCare"
admin.site.index_title = "Clinic administration"

urlpatterns = [
    path("health/", health, name="health"),
    path("metrics/", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    # Session login and logout for the browsable API.
    path("api/auth/", include("rest_framework.urls")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", DocsView.as_view(url_name="schema"), name="api-docs"),
    # The pages people use; "/" is the sign-in page.
    path("", include("web.urls")),
]
