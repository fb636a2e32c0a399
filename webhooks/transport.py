"""Webhook plumbing without the database: signing and one guarded HTTP POST.

The callback URL policy (public http(s) addresses on allowed ports) is
`detection.callback_urls`; `post` applies it on the very socket it connects.

The signature header is `X-Deepfake-Signature: t=<unix seconds>,v1=<hex>` where `<hex>` is
HMAC-SHA256(secret, f"{t}.{body}"). Receivers recompute it over the raw body and reject old
timestamps (replays); `X-Deepfake-Event-Id` is stable across retries (deduplicate on it).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from detection.callback_urls import CallbackUrlRefused, address_refusal, resolve, url_parts

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


def guarded_connection(host: str, port: int, timeout, *, allow_private: bool) -> socket.socket:
    """A TCP connection to `host` whose address is checked before connecting, and checked again
    on the connected socket itself (its peer), before a byte is sent: a name that resolves to a
    public address for one check and to an internal one for the connection (DNS rebinding)
    cannot reach the internal one."""
    infos = resolve(host, port)
    for info in infos:  # any non-public answer refuses the host, as callback_url_check does
        if refusal := address_refusal(info[4][0], allow_private=allow_private):
            raise CallbackUrlRefused(refusal)
    last_error: OSError | None = None
    for family, type_, proto, _name, sockaddr in infos:
        sock = socket.socket(family, type_, proto)
        try:
            if timeout is not None and timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            sock.connect(sockaddr)
            refusal = address_refusal(sock.getpeername()[0], allow_private=allow_private)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        if refusal:
            sock.close()
            raise CallbackUrlRefused(refusal)
        return sock
    raise last_error or OSError(f"could not connect to {host}:{port}")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    allow_private = False

    def connect(self):
        self.sock = guarded_connection(
            self.host, self.port, self.timeout, allow_private=self.allow_private
        )


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    allow_private = False

    def connect(self):
        sock = guarded_connection(
            self.host, self.port, self.timeout, allow_private=self.allow_private
        )
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _opener(allow_private: bool):
    http_class = type("_Http", (_GuardedHTTPConnection,), {"allow_private": allow_private})
    https_class = type("_Https", (_GuardedHTTPSConnection,), {"allow_private": allow_private})

    class Http(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(http_class, req)

    class Https(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(https_class, req, context=self._context)

    # Direct connections only (no proxy from the environment): the address check is what
    # guards, on the socket each request really uses.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects, Http, Https)


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout_s: float,
    allow_private: bool = False,
    allowed_ports=None,
) -> PostResult:
    """POST once. Raises CallbackUrlRefused when the URL or the address actually connected to
    may not receive webhooks (then nothing was sent)."""
    url_parts(url, allowed_ports)
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    try:
        with _opener(allow_private).open(request, timeout=timeout_s) as response:
            return PostResult(response.status, "", _excerpt(response))
    except CallbackUrlRefused:
        raise
    except urllib.error.HTTPError as exc:  # any non-2xx answer, redirects included
        return PostResult(exc.code, f"HTTP {exc.code} {exc.reason}", _excerpt(exc))
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, CallbackUrlRefused):
            raise exc.reason from None
        return PostResult(None, f"{exc.__class__.__name__}: {exc.reason}", "")
    except (OSError, ValueError) as exc:
        return PostResult(None, f"{exc.__class__.__name__}: {exc}", "")


def _excerpt(response, limit: int = 500) -> str:
    try:
        return response.read(limit).decode("utf-8", "replace")
    except Exception:  # the body is only a diagnostic
        return ""
