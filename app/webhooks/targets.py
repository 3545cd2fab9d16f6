"""Which webhook targets may be called: HOTLINE_WEBHOOK_DENY_PRIVATE refuses private hosts."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class Refused(Exception):
    """The target may not be called; the message says why."""


def _blocked(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
            or ip.is_multicast or ip.is_unspecified)


def check_public(url: str) -> None:
    """Raise Refused unless every address the URL's host resolves to is public.

    The check resolves the host once more than the request does, so a name that changes
    its answer in between (DNS rebinding) is not caught; it guards against configuration
    mistakes and plain private targets, not a hostile resolver.
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise Refused("the webhook URL has no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"cannot resolve {host}: {exc}") from None
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if _blocked(ip):
            raise Refused(f"{host} resolves to the non-public address {ip} "
                          "(HOTLINE_WEBHOOK_DENY_PRIVATE=true)")
