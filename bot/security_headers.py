"""Security headers on every response, error pages included (set as the response is prepared)."""
from __future__ import annotations

from aiohttp import web

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    # Pages ship their own inline script and style; nothing is loaded from elsewhere.
    "Content-Security-Policy": ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
                                "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                "media-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                                "form-action 'self'; base-uri 'none'"),
}
HTTPS_ONLY = {"Strict-Transport-Security": "max-age=31536000"}


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.secure:
        response.headers.update(HTTPS_ONLY)
    if request.path.startswith(("/console", "/admin", "/review", "/login", "/account", "/api/")):
        response.headers.setdefault("Cache-Control", "no-store")  # health data stays out of caches


def setup(app: web.Application) -> None:
    app.on_response_prepare.append(add_security_headers)
