"""The API: /api/v1/ (each app's api.py), the OpenAPI schema and its docs page.

No Redoc page: its template loads web fonts from a CDN.
"""

from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import api as accounts_api
from detection import api as detection_api
from moderation import api as moderation_api
from webhooks import api as webhooks_api

app_name = "api"

urlpatterns = [
    path("v1/", include(accounts_api.urlpatterns)),
    path("v1/", include(detection_api.urlpatterns)),
    path("v1/", include(webhooks_api.urlpatterns)),
    path("v1/", include(moderation_api.urlpatterns)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start script as a file of its own: no inline script,
    # so the site's Content-Security-Policy holds here too (Swagger UI's page has a <style>).
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api:schema")
        ),
        name="docs",
    ),
]
