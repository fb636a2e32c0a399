"""Per-account upload rate, counted in the shared cache (every web process and server alike).

The storage quota is counted in the database (`services._storage_quota_check`)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

WINDOW_S = 60


def upload_rate_take(*, user) -> bool:
    """Count one upload for the account; False when it is over DETECTION_UPLOADS_PER_MINUTE
    in the current minute (web form and API together)."""
    limit = settings.DETECTION_UPLOADS_PER_MINUTE
    if limit <= 0:
        return True
    key = f"upload-rate:{user.pk}:{int(time.time() // WINDOW_S)}"
    cache.add(key, 0, timeout=WINDOW_S * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_S * 2)
        count = 1
    return count <= limit


def upload_rate_retry_after() -> int:
    return WINDOW_S - int(time.time()) % WINDOW_S
