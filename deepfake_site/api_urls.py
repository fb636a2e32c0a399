"""The API: /api/v1/ (each app's api.py), the OpenAPI schema and its docs page.

No Redoc page: its template loads web fonts from a CDN.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

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
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
