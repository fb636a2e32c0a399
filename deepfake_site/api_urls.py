"""The API: /api/v1/ (each app's api.py), the OpenAPI schema and its docs pages."""
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts import api as accounts_api
from detection import api as detection_api

app_name = "api"

urlpatterns = [
    path("v1/", include(accounts_api.urlpatterns)),
    path("v1/", include(detection_api.urlpatterns)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
