"""Which webhook targets may be called: HOTLINE_WEBHOOK_DENY_PRIVATE refuses private hosts."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class Refused(Exception):
    """The target may not be called; the message says why."""


class NotPublic(Refused):
    """The target's host is not globally routable: no later attempt can succeed."""


def _blocked(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Anything but a globally routable unicast address: private ranges, loopback, link-
    local (cloud metadata at 169.254.169.254), carrier-grade NAT's shared space
    100.64.0.0/10 (another cloud's metadata at 100.100.100.200), documentation and
    benchmark ranges, multicast. IANA's special-purpose registries, as `is_global` has it."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_public(url: str) -> None:
    """Raise Refused unless every address the URL's host resolves to is public
    (NotPublic when one is not; plain Refused when the host does not resolve now).

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
            raise NotPublic(
                f"{host} resolves to the non-public address {ip} (HOTLINE_WEBHOOK_DENY_PRIVATE=true)"
            )


def registrable(url: str | None, *, deny_private: bool) -> str | None:
    """What is wrong with a webhook URL being registered (None: nothing), when private
    targets are refused: refused at registration, not only at each delivery."""
    if url is None or not deny_private:
        return None
    try:
        check_public(url)
    except Refused as exc:
        return str(exc)
    return None
