from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="detection:job_list", permanent=False)),
    path("accounts/", include("accounts.urls")),
    path("videos/", include("detection.urls")),
    path("moderation/", include("moderation.urls")),
    path("api/", include("deepfake_site.api_urls")),
    path("admin/", admin.site.urls),
]

# JSON errors (the API's shape) for unmatched URLs and crashes under /api/; HTML elsewhere.
handler404 = "deepfake_site.api_common.handler404"
handler500 = "deepfake_site.api_common.handler500"
