"""The client's address, as DRF's throttles read it (NUM_PROXIES), for the login lockout."""

from django.conf import settings


def client_ip(request) -> str:
    """REMOTE_ADDR, unless DEEPFAKE_PROXY_COUNT proxies stand in front of the site: then the
    X-Forwarded-For entry the outermost of them appended (entries a client wrote itself sit
    further left and are ignored)."""
    remote = request.META.get("REMOTE_ADDR", "")
    if settings.PROXY_COUNT <= 0:
        return remote
    forwarded = [
        a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()
    ]
    if not forwarded:
        return remote
    return forwarded[-min(settings.PROXY_COUNT, len(forwarded))]
