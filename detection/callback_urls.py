"""Which callback URLs a job may name: http(s) to public addresses on allowed ports only.

Checked when a job is submitted (here, for a clear error) and again by the webhooks app on the
very socket each delivery connects (`webhooks.transport`), since a name may resolve elsewhere
later. A refusal never says what a name resolved to.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class CallbackUrlRefused(ValueError):
    """The URL may not receive webhooks (bad scheme or port, unresolvable, or a non-public
    address). The message never says what a name resolved to."""


NON_PUBLIC = (
    "The callback host resolves to a non-public address; only public addresses may "
    "receive webhooks."
)

# IPv6 ranges that carry an IPv4 address (NAT64, 6to4, Teredo, mapped, compatible): a gateway
# may turn them into any IPv4 address, internal ones included, so they are refused whole.
IPV4_IN_IPV6 = [
    ipaddress.ip_network(n)
    for n in ("::ffff:0:0/96", "::/96", "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32")
]


def address_refusal(address: str, *, allow_private: bool) -> str | None:
    """Why webhooks may not go to this IP address (None if they may)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return NON_PUBLIC
    if allow_private:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and any(ip in net for net in IPV4_IN_IPV6):
        return NON_PUBLIC
    if not ip.is_global or ip.is_multicast:
        return NON_PUBLIC
    return None


def url_parts(url: str, allowed_ports=None) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL on an allowed port (empty or None: any)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise CallbackUrlRefused(f"The callback URL is malformed ({exc}).") from None
    if parts.scheme not in ("http", "https"):
        raise CallbackUrlRefused("The callback URL must use http or https.")
    host = parts.hostname
    if not host:
        raise CallbackUrlRefused("The callback URL has no host.")
    port = port or (443 if parts.scheme == "https" else 80)
    if allowed_ports and port not in allowed_ports:
        allowed = ", ".join(str(p) for p in sorted(allowed_ports))
        raise CallbackUrlRefused(
            f"The callback URL's port {port} is not allowed (allowed: {allowed})."
        )
    return parts.scheme, host, port


def resolve(host: str, port: int) -> list:
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise CallbackUrlRefused(f"The callback host {host!r} cannot be resolved.") from None


def callback_url_check(url: str, *, allow_private: bool, allowed_ports=None) -> None:
    """Refuse anything but http(s) to public addresses on an allowed port, so we are not a
    proxy into our network.

    Every address the host resolves to is checked (an attacker's name may resolve to several).
    """
    _scheme, host, port = url_parts(url, allowed_ports)
    for info in resolve(host, port):
        if refusal := address_refusal(info[4][0], allow_private=allow_private):
            raise CallbackUrlRefused(refusal)
