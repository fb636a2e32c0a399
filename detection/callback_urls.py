"""Which callback URLs a job may name: http(s) to public addresses only.

Checked when a job is submitted (here) and again by the webhooks app before each delivery, since a
name may resolve elsewhere later.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class CallbackUrlRefused(ValueError):
    """The URL may not receive webhooks (bad scheme, unresolvable, or a non-public address)."""


def callback_url_check(url: str, *, allow_private: bool) -> None:
    """Refuse anything but http(s) to public addresses, so we are not a proxy into our network.

    Every address the host resolves to is checked (an attacker's name may resolve to several).
    """
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
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise CallbackUrlRefused(
            f"The callback host {host!r} cannot be resolved ({exc})."
        ) from None
    if allow_private:
        return
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            raise CallbackUrlRefused(
                f"The callback host {host!r} resolves to a non-public address ({address}); "
                "only public addresses may receive webhooks."
            )
