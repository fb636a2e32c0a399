"""Webhook plumbing without the database: signing and one HTTP POST.

The callback URL policy (public http(s) addresses only) is `detection.callback_urls`.

The signature header is `X-Deepfake-Signature: t=<unix seconds>,v1=<hex>` where `<hex>` is
HMAC-SHA256(secret, f"{t}.{body}"). Receivers recompute it over the raw body and reject old
timestamps (replays); `X-Deepfake-Event-Id` is stable across retries (deduplicate on it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

SIGNATURE_HEADER = "X-Deepfake-Signature"
EVENT_ID_HEADER = "X-Deepfake-Event-Id"
EVENT_TYPE_HEADER = "X-Deepfake-Event"
USER_AGENT = "deepfake-moderation-webhooks/1"


def canonical_body(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def signature_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def signature_verify(
    secret: str, header: str, body: bytes, *, tolerance_s: int = 300, now: float | None = None
) -> bool:
    """What a receiver does (also used by our tests; docs/api.md shows receiver code)."""
    try:
        fields = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), fields.get("v1", ""))


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    error: str
    response_excerpt: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could point at an address we refused: treat it as the answer, do not follow.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# Direct connections only (no proxy from the environment): the address check is what guards.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout_s: float) -> PostResult:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            return PostResult(response.status, "", _excerpt(response))
    except urllib.error.HTTPError as exc:  # any non-2xx answer, redirects included
        return PostResult(exc.code, f"HTTP {exc.code} {exc.reason}", _excerpt(exc))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return PostResult(None, f"{exc.__class__.__name__}: {reason}", "")


def _excerpt(response, limit: int = 500) -> str:
    try:
        return response.read(limit).decode("utf-8", "replace")
    except Exception:  # the body is only a diagnostic
        return ""
