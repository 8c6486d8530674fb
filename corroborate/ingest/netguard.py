"""Which URLs the fetcher may contact: http(s) only, and never an address inside our own network.

The check runs on the addresses DNS returns, not on the hostname string, so ``localhost``,
``2130706433`` or a public name pointing at 10.0.0.1 are caught like the literal addresses.
An IPv6 address that carries an IPv4 address (mapped ``::ffff:a.b.c.d``, compatible
``::a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``, Teredo) is judged by that IPv4
address as well as by itself.

Refused even when private addresses are allowed (``allow_private``, which loopback tests need):
the whole link-local ranges (169.254.0.0/16, fe80::/10), where clouds serve instance metadata
and credentials (169.254.169.254, ECS 169.254.170.2, EKS pod identity 169.254.170.23, the AWS
resolver 169.254.169.253...); AWS's IPv6 service range fd00:ec2::/32; the other known metadata
addresses (Alibaba's 100.100.100.200, Azure's WireServer 168.63.129.16); multicast and
unspecified addresses. No news page lives there.

:func:`resolve_checked_async` is what the fetcher's transport connects with: it resolves a host
once, checks every address and returns them, so the address connected to is the address checked
(a name that resolves to a public address for the check and to 127.0.0.1 a moment later, DNS
rebinding, gets nowhere).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from corroborate.errors import AddressRefusedError, PermanentFetchError, TransientFetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})

# Known metadata and credential endpoints, named in refusals. The link-local ranges around the
# first five are refused whole anyway; the last two are ordinary-looking addresses.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS/GCP/Azure/OpenStack/Oracle/DigitalOcean instance metadata
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.170.23",  # AWS EKS pod identity credentials
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "fd00:ec2::23",  # AWS EKS pod identity over IPv6
        "100.100.100.200",  # Alibaba Cloud metadata
        "168.63.129.16",  # Azure WireServer
    )
)
# AWS's IPv6 service range (metadata, pod identity, DNS, NTP); a unique-local range, so
# allow_private would otherwise open it.
METADATA_NETWORKS: tuple[ipaddress.IPv6Network, ...] = (ipaddress.IPv6Network("fd00:ec2::/32"),)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_V4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64 or (ip in _V4_COMPATIBLE and int(ip) > 1):  # :: and ::1 are not IPv4 addresses
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def _is_metadata(ip: IPAddress) -> bool:
    return ip in METADATA_ADDRESSES or (
        isinstance(ip, ipaddress.IPv6Address) and any(ip in net for net in METADATA_NETWORKS)
    )


def address_refusal(ip: IPAddress, allow_private: bool) -> str | None:
    """Why ``ip`` must not be contacted, or None when it may be."""
    inner = embedded_ipv4(ip)
    candidates: list[IPAddress] = [ip] if inner is None else [ip, inner]
    for candidate in candidates:
        if _is_metadata(candidate):
            return "cloud metadata address"
    for candidate in candidates:
        if candidate.is_unspecified:
            return "unspecified address"
        if candidate.is_multicast:
            return "multicast address"
        if candidate.is_link_local:
            return "link-local address"
    if allow_private:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and inner is not None and (ip.ipv4_mapped is not None or ip in _NAT64):
        # translated on the way: the IPv4 address is the destination (Python 3.11 calls both
        # prefixes "reserved", which would refuse every site on an IPv6-only network with DNS64)
        candidates = [inner]
    for candidate in candidates:
        if candidate.is_loopback:
            return "loopback address"
        if candidate.is_private:
            return "private address"
        if candidate.is_reserved:
            return "reserved address"
        if not candidate.is_global:
            return "non-public address"
    return None


def split_target(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an allowed-scheme URL, or PermanentFetchError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise PermanentFetchError(f"malformed URL {url!r}", url=url) from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise PermanentFetchError(f"refused scheme {scheme or '(none)'!r}: only http and https are fetched", url=url)
    host = parts.hostname
    if not host:
        raise PermanentFetchError(f"URL has no host: {url!r}", url=url)
    return scheme, ascii_host(host, url), port if port is not None else (443 if scheme == "https" else 80)


def ascii_host(host: str, url: str) -> str:
    """``host`` as DNS and httpx see it: an internationalised name in its IDNA 2008 ASCII form (``xn--…``),
    encoded as httpx encodes it, so the name checked is the name connected to (Python's resolver would use
    IDNA 2003, which reads ``ß.de`` as ``ss.de``); one that IDNA 2008 refuses is a one-line error."""
    if host.isascii():
        return host
    import idna

    try:
        return idna.encode(host.lower()).decode("ascii")
    except idna.IDNAError as exc:
        raise PermanentFetchError(
            f"host {host!r} is not a valid internationalised domain name (IDNA 2008: {exc})", url=url
        ) from None


def shown_host(host: str) -> str:
    """``host`` for a message: an IDNA name as it reads, with the ASCII form DNS was asked for."""
    if "xn--" not in host:
        return repr(host)
    import idna

    try:
        return f"{idna.decode(host)!r} ({host})"
    except idna.IDNAError:
        return repr(host)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def _check_addresses(url: str, host: str, addresses: list[IPAddress], allow_private: bool) -> None:
    if not addresses:
        raise PermanentFetchError(f"host {host!r} resolved to no address", url=url)
    for ip in addresses:
        reason = address_refusal(ip, allow_private)
        if reason is not None:
            shown = host if str(ip) == host else f"{host} ({ip})"
            raise AddressRefusedError(f"refused {reason} {shown}", url=url)


def _resolution_error(url: str, host: str, exc: OSError) -> Exception:
    # EAI_AGAIN is the resolver saying "try later"; everything else (NXDOMAIN...) will not change soon
    if isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_AGAIN:
        return TransientFetchError(f"DNS lookup of {host!r} failed temporarily", url=url)
    return PermanentFetchError(f"cannot resolve host {shown_host(host)}: {exc.strerror or exc}", url=url)


def _addresses(infos: list[tuple[object, object, object, object, tuple[object, ...]]]) -> list[IPAddress]:
    out: list[IPAddress] = []
    for info in infos:
        ip = _literal(str(info[4][0]))
        if ip is not None and ip not in out:
            out.append(ip)
    return out


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order (OSError when it does not)."""
    return _addresses(list(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))


async def resolve_async(host: str, port: int) -> list[IPAddress]:
    """:func:`resolve` without blocking the event loop (getaddrinfo runs in a thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return _addresses(list(infos))


def check_url_allowed(url: str, allow_private: bool) -> None:
    """Raise PermanentFetchError unless ``url`` is http(s) and every address its host resolves to is allowed."""
    _, host, port = split_target(url)
    literal = _literal(host)
    if literal is not None:
        _check_addresses(url, host, [literal], allow_private)
        return
    try:
        addresses = resolve(host, port)
    except OSError as exc:
        raise _resolution_error(url, host, exc) from None
    _check_addresses(url, host, addresses, allow_private)


async def resolve_checked_async(
    host: str, port: int, allow_private: bool, *, url: str | None = None
) -> list[IPAddress]:
    """Resolve ``host`` once and return its addresses if every one is allowed; FetchError otherwise.

    Connect only to the addresses returned: resolving again could give a different answer.
    """
    where = url if url is not None else f"{host}:{port}"
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = await resolve_async(host, port)
        except OSError as exc:
            raise _resolution_error(where, host, exc) from None
    _check_addresses(where, host, addresses, allow_private)
    return addresses


async def check_url_allowed_async(url: str, allow_private: bool) -> None:
    """:func:`check_url_allowed` without blocking the event loop."""
    _, host, port = split_target(url)
    await resolve_checked_async(host, port, allow_private, url=url)
