"""Cross-cutting response headers."""

from django.utils.cache import patch_cache_control


class PrivateNoStoreMiddleware:
    """Every page, API answer and media file of the site is private: `Cache-Control: private,
    no-store`, so neither a shared proxy nor the browser's disk keeps someone's videos, verdicts
    or a new API token. Static files are answered above this middleware (WhiteNoise) and stay
    cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, private=True, no_store=True)
        return response
