"""Which URLs the fetcher may contact: http(s) only, and never an address inside our own network.

The check runs on the addresses DNS returns, not on the hostname string, so ``localhost``,
``2130706433`` or a public name pointing at 10.0.0.1 are caught like the literal addresses.
Cloud metadata endpoints, multicast and unspecified addresses are refused even when private
addresses are allowed: no news page lives there, and tests only need loopback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from corroborate.errors import PermanentFetchError, TransientFetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})

# AWS/GCP/Azure/OpenStack share 169.254.169.254; AWS also answers on IPv6; Alibaba uses 100.100.100.200.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)


def _unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address hidden in an IPv4-mapped / 6to4 / Teredo IPv6 address, if any."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
    return ip


def address_refusal(ip: IPAddress, allow_private: bool) -> str | None:
    """Why ``ip`` must not be contacted, or None when it may be."""
    inner = _unwrap(ip)
    if ip in METADATA_ADDRESSES or inner in METADATA_ADDRESSES:
        return "cloud metadata address"
    for candidate in {ip, inner}:
        if candidate.is_unspecified:
            return "unspecified address"
        if candidate.is_multicast:
            return "multicast address"
    if allow_private:
        return None
    for candidate in {ip, inner}:
        if candidate.is_loopback:
            return "loopback address"
        if candidate.is_link_local:
            return "link-local address"
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
    return scheme, host, port if port is not None else (443 if scheme == "https" else 80)


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
            raise PermanentFetchError(f"refused {reason} {shown}", url=url)


def _resolution_error(url: str, host: str, exc: OSError) -> Exception:
    # EAI_AGAIN is the resolver saying "try later"; everything else (NXDOMAIN...) will not change soon
    if isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_AGAIN:
        return TransientFetchError(f"DNS lookup of {host!r} failed temporarily", url=url)
    return PermanentFetchError(f"cannot resolve host {host!r}: {exc.strerror or exc}", url=url)


def _addresses(infos: list[tuple[object, object, object, object, tuple[object, ...]]]) -> list[IPAddress]:
    out: list[IPAddress] = []
    for info in infos:
        raw = str(info[4][0])
        ip = _literal(raw)
        if ip is not None:
            out.append(ip)
    return out


def check_url_allowed(url: str, allow_private: bool) -> None:
    """Raise PermanentFetchError unless ``url`` is http(s) and every address its host resolves to is allowed."""
    _, host, port = split_target(url)
    literal = _literal(host)
    if literal is not None:
        _check_addresses(url, host, [literal], allow_private)
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise _resolution_error(url, host, exc) from None
    _check_addresses(url, host, _addresses(list(infos)), allow_private)


async def check_url_allowed_async(url: str, allow_private: bool) -> None:
    """:func:`check_url_allowed` without blocking the event loop (getaddrinfo runs in a thread)."""
    _, host, port = split_target(url)
    literal = _literal(host)
    if literal is not None:
        _check_addresses(url, host, [literal], allow_private)
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise _resolution_error(url, host, exc) from None
    _check_addresses(url, host, _addresses(list(infos)), allow_private)
