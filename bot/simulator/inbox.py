"""What the account sent a resident outside the passive reply, read from the mock WeChat API.

The mock keeps every customer-service and template message it accepted; the page shows them as
bubbles in the same shape as passive replies, so it needs one renderer for both.
"""
from __future__ import annotations

import asyncio

import aiohttp
from yarl import URL


POLL_TIMEOUT = aiohttp.ClientTimeout(total=5)


class NoMock(LookupError):
    """The configured WeChat API is not the mock, so sent messages cannot be read back."""


class MockDown(ConnectionError):
    """The mock WeChat API did not answer as expected."""


def _articles(payload: dict) -> list[dict]:
    return [{"title": a.get("title", ""), "description": a.get("description", ""),
             "image": a.get("picurl", ""), "url": a.get("url", "")}
            for a in (payload.get("news") or {}).get("articles") or [] if isinstance(a, dict)]


def _template(payload: dict) -> dict:
    data = payload.get("data") or {}
    fields = [{"name": name, "value": str(v.get("value", "")) if isinstance(v, dict) else str(v)}
              for name, v in data.items()] if isinstance(data, dict) else []
    return {"type": "template", "fields": fields, "url": payload.get("url", "")}


def _menu_message(payload: dict) -> dict:
    menu = payload.get("msgmenu") or {}
    lines = [menu.get("head_content", "")]
    lines += [item.get("content", "") for item in menu.get("list") or [] if isinstance(item, dict)]
    lines.append(menu.get("tail_content", ""))
    return {"type": "text", "text": "\n".join(line for line in lines if line)}


def to_bubble(item: dict) -> dict:
    """One sent item as the page draws it: text, news, template, or a placeholder for media."""
    payload = item.get("payload") or {}
    if item.get("kind") == "template":
        bubble = _template(payload)
    elif payload.get("msgtype") == "text":
        bubble = {"type": "text", "text": (payload.get("text") or {}).get("content", "")}
    elif payload.get("msgtype") == "news":
        bubble = {"type": "news", "articles": _articles(payload)}
    elif payload.get("msgtype") == "msgmenu":
        bubble = _menu_message(payload)
    else:
        bubble = {"type": str(payload.get("msgtype") or "unknown")}
    return {"seq": item.get("seq", 0), "at": item.get("at", 0), **bubble}


def _button(raw: dict) -> dict:
    return {"name": str(raw.get("name", "")), "type": str(raw.get("type", "")),
            "key": str(raw.get("key") or raw.get("url") or ""),
            "sub": [_button(b) for b in raw.get("sub_button") or [] if isinstance(b, dict)]}


def to_menu(menu: object) -> list[dict] | None:
    """The menu the account created through the API, if any, in the page's shape."""
    if not isinstance(menu, dict) or not isinstance(menu.get("button"), list):
        return None
    return [_button(b) for b in menu["button"] if isinstance(b, dict)]


async def fetch_sent(http: aiohttp.ClientSession, api_base: str, openid: str, after: int) -> dict:
    """Ask the mock what was sent to `openid` after `after`; NoMock when the API is not a mock."""
    url = URL(api_base.rstrip("/") + "/mock/sent").with_query(openid=openid, after=str(after))
    try:
        async with http.get(url, timeout=POLL_TIMEOUT) as resp:
            if resp.status == 404:
                raise NoMock()
            if resp.status != 200:
                raise MockDown(f"mock answered HTTP {resp.status}")
            data = await resp.json()
    except aiohttp.ContentTypeError:
        raise NoMock() from None
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        raise MockDown(type(exc).__name__) from None
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise NoMock()
    return {"messages": [to_bubble(m) for m in data["messages"] if isinstance(m, dict)],
            "menu": to_menu(data.get("menu"))}
