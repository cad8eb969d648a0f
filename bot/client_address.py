"""The client's address, for login throttling and the audit trail: one answer for both.

X-Forwarded-For is a list anyone can start: a client sends `X-Forwarded-For: 1.2.3.4` and nginx
appends the address it saw. Only the entries added by proxies we run can be believed, so the list
is read from the right (the nearest hop first) while each hop is a trusted proxy
(XZ_TRUSTED_PROXIES); the first address that is not one is the client. A peer that is not a
trusted proxy is the client itself, whatever it sends.
"""
from __future__ import annotations

import ipaddress

from aiohttp import web

from bot.appkeys import CONFIG
from bot.config import Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is 127.0.0.1
    return mapped or address


def _trusted(address, proxies: tuple[Network, ...]) -> bool:
    return any(address in network for network in proxies)


def from_trusted_proxy(request: web.Request) -> bool:
    """The peer is one of our proxies, so what it adds to the request (X-Forwarded-*) is believed."""
    peer = _address(request.remote or "")
    return peer is not None and _trusted(peer, request.config_dict[CONFIG].trusted_proxies)


def client_address(request: web.Request) -> str:
    """The client's address as the nearest untrusted hop saw it; '' when the peer has none."""
    proxies = request.config_dict[CONFIG].trusted_proxies
    hop = _address(request.remote or "")
    if hop is None:
        return ""
    forwarded = [part for header in request.headers.getall("X-Forwarded-For", ()) for part in header.split(",")]
    for entry in reversed(forwarded):
        if not _trusted(hop, proxies):
            break
        previous = _address(entry)
        if previous is None:  # a garbled entry: nothing left of it can be believed
            break
        hop = previous
    return str(hop)
