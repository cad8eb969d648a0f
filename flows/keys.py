"""What the flows package keeps on the application."""
from __future__ import annotations

from aiohttp import web

from knowledge.library import Knowledge

KNOWLEDGE = web.AppKey("flows.knowledge", Knowledge)
