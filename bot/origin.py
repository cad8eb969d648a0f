"""Whether a request comes from one of the service's own pages, by its Origin header.

For the console's WebSocket: a browser opens one from any page with the staff member's cookies,
and the handshake is a GET that no CSRF token guards. SameSite=Lax keeps the cookie from other
sites, but not from another origin of the same site (a neighbouring subdomain), so without this
check such a page could listen to the live queue and the chats (cross-site WebSocket hijacking).
The service's own origins: XZ_PUBLIC_URL's, and the one the request was addressed to (its Host,
with the scheme a trusted proxy reports in X-Forwarded-Proto), which is the demo's and the tests'.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from bot.appkeys import CONFIG
from bot.client_address import from_trusted_proxy


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def own_origins(request: web.Request) -> set[str]:
    scheme = request.scheme
    if from_trusted_proxy(request):
        scheme = request.headers.get("X-Forwarded-Proto", scheme).split(",")[0].strip() or scheme
    origins = {_origin(f"{scheme}://{request.host}")}
    public_url = request.config_dict[CONFIG].public_url
    if public_url:
        origins.add(_origin(public_url))
    return origins - {""}


def same_origin(request: web.Request) -> bool:
    """True when the request carries an Origin and it is one of ours; a missing one is refused."""
    sent = _origin(request.headers.get("Origin", ""))
    return bool(sent) and sent in own_origins(request)
