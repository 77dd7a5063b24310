"""Where the server may send requests: one rule for every address someone typed or set rather
than the code, namely Scripe's base URL (a workspace admin types it), the address Scripe is
asked to deliver webhooks to (`PUBLIC_BASE_URL`) and, later, outgoing webhooks.

An allowed destination is an `https` URL whose host resolves to public addresses only: never
loopback, private, link-local (the cloud metadata service at 169.254.169.254), shared (CGNAT),
multicast, reserved or unspecified ones, nor an IPv6 address that carries one of those
(IPv4-mapped, NAT64) or an IPv4 address that cannot be judged (6to4, Teredo). A name is judged
by every address it resolves to: one private address among public ones refuses it.

Checking a URL when it is saved is not enough, since a name can resolve differently by the time
a connection is opened (DNS rebinding). `public_addresses` is also what the client's transport
asks right before it connects, and it connects to the addresses that answer returned, never
to the name again (`client.PublicOnlyTransport`).

`SCRIPE_ALLOW_LOCAL_HOSTS` lifts the rule (plain http and any address) for development, the
sandbox and the tests. It is off unless set.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

# Said next to a refused URL. Deliberately the same whether the URL is plain http, names a
# private address or resolves to one: which of these it was would tell an admin about the
# server's network. A name that resolves to nothing is said apart (`NameNotFound`): a typo
# or a made-up host is the common case, and "use a public address" misleads for one.
REFUSED = "Use an https address on the public internet"
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# getaddrinfo's answers for a name it found no address for: none exists, or (EAI_AGAIN) DNS
# did not answer, which for the person typing reads the same. Other failures keep REFUSED.
NOT_FOUND = frozenset(
    getattr(socket, name)
    for name in ("EAI_NONAME", "EAI_NODATA", "EAI_AGAIN")
    if hasattr(socket, name)
)


class DestinationRefused(Exception):
    """The URL is not allowed as a server-side destination."""

    def __init__(self, message: str = REFUSED) -> None:
        super().__init__(message)


class NameNotFound(DestinationRefused):
    """The URL's host name resolves to no address (from this server)."""

    def __init__(self, host: str) -> None:
        super().__init__(f"We could not find {host}; check the address")


def local_hosts_allowed() -> bool:
    """Whether SCRIPE_ALLOW_LOCAL_HOSTS lifts the rule. Django is imported here only, so the
    client can use this module without it."""
    from django.conf import settings

    return bool(getattr(settings, "SCRIPE_ALLOW_LOCAL_HOSTS", False))


def is_public_address(address: str) -> bool:
    """The IP address is on the public internet, and is not one of the special ones Python's
    `is_global` lets through (multicast, and IPv6 forms that carry an IPv4 address)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # no IPv6 zone index
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
        elif ip.sixtofour is not None or ip.teredo is not None:
            return False  # a tunnel to an IPv4 address we do not judge
        elif ip.is_site_local:
            return False
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_private
    )


def public_addresses(host: str, port: int) -> list[str]:
    """Resolves `host` once and returns its addresses when every one is public. Raises
    DestinationRefused otherwise, and NameNotFound when it does not resolve. Connect to what
    it returns, never to `host` again."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno in NOT_FOUND:
            raise NameNotFound(host) from None
        raise DestinationRefused() from None
    except (OSError, UnicodeError):
        raise DestinationRefused() from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise NameNotFound(host)
    if not all(is_public_address(address) for address in addresses):
        raise DestinationRefused()
    return addresses


def check_url(url: str, *, allow_local: bool | None = None, resolve: bool = True) -> None:
    """Raises DestinationRefused unless the server may send requests to `url`.

    `allow_local`: None follows SCRIPE_ALLOW_LOCAL_HOSTS. With `resolve=False` only what the URL
    itself shows is judged (its scheme, a literal address, localhost), without asking DNS:
    for pages that show a warning, not for deciding to connect."""
    parts = urlsplit(url)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port out of range
        raise DestinationRefused() from None
    if parts.scheme not in ("http", "https") or not host:
        raise DestinationRefused()
    if local_hosts_allowed() if allow_local is None else allow_local:
        return
    if parts.scheme != "https":
        raise DestinationRefused()
    name = host.rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        raise DestinationRefused()
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        if resolve:
            public_addresses(host, port or 443)
        return
    if not is_public_address(host):
        raise DestinationRefused()
