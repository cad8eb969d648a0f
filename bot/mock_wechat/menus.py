"""The mock platform's conditional menus and user tags, matched as the platform matches them.

A conditional menu matches by tag only: a rule on sex, region or client language is refused with
65320, as the platform has done since it dropped them for privacy. A resident sees the newest
conditional menu whose tag they carry, else the default menu; deleting the menu deletes them all.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

from aiohttp import web

from bot.mock_wechat.state import MockState

PRIVATE_RULES = ("sex", "country", "province", "city", "language")


@dataclass
class MenuBook:
    platform: MockState  # its token list, and the default menu menu/create set
    conditional: list[dict] = field(default_factory=list)  # oldest first, each with menuid and matchrule
    tags: dict[int, str] = field(default_factory=dict)
    members: dict[str, list[int]] = field(default_factory=dict)  # openid -> tag ids, in tagging order
    _ids: itertools.count = field(default_factory=lambda: itertools.count(100))

    def menu_for(self, openid: str) -> dict | None:
        mine = set(self.members.get(openid, ()))
        for menu in reversed(self.conditional):
            if int(menu["matchrule"].get("tag_id") or 0) in mine:
                return {"button": menu["button"]}
        return self.platform.menu

    def reset(self) -> None:
        self.conditional.clear()
        self.tags.clear()
        self.members.clear()


MENU_BOOK = web.AppKey("menu_book", MenuBook)


def _error(errcode: int, errmsg: str = "") -> web.Response:
    return web.json_response({"errcode": errcode, "errmsg": errmsg or ("ok" if errcode == 0 else "error")})


async def _body(request: web.Request) -> dict:
    try:
        data = json.loads(await request.read() or b"{}")
    except ValueError:
        data = None
    return data if isinstance(data, dict) else {}


def _checked(handler):
    async def wrapped(request: web.Request) -> web.Response:
        if not request.app[MENU_BOOK].platform.token_valid(request.query.get("access_token", "")):
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        return await handler(request, request.app[MENU_BOOK], await _body(request))
    return wrapped


@_checked
async def delete_menu(request: web.Request, book: MenuBook, body: dict) -> web.Response:
    book.platform.menu = None
    book.conditional.clear()
    return _error(0)


@_checked
async def add_conditional(request: web.Request, book: MenuBook, body: dict) -> web.Response:
    rule = body.get("matchrule") or {}
    if any(rule.get(name) for name in PRIVATE_RULES):
        return _error(65320, "privacy match rules are no longer supported")
    if not str(rule.get("tag_id", "")).isdigit() or int(rule["tag_id"]) not in book.tags:
        return _error(40099, "invalid tag_id")  # a tag must exist before a menu can match it
    if book.platform.menu is None:
        return _error(65303, "there is no default menu")
    if not isinstance(body.get("button"), list) or not body["button"]:
        return _error(40016, "invalid button size")
    menuid = next(book._ids)
    book.conditional.append({"menuid": menuid, "button": body["button"], "matchrule": rule})
    return web.json_response({"menuid": str(menuid)})


@_checked
async def get_tags(request: web.Request, book: MenuBook, body: dict) -> web.Response:
    return web.json_response({"tags": [{"id": i, "name": n, "count": sum(i in t for t in book.members.values())}
                                       for i, n in book.tags.items()]})


@_checked
async def create_tag(request: web.Request, book: MenuBook, body: dict) -> web.Response:
    name = str((body.get("tag") or {}).get("name", ""))
    if not name or len(name) > 30:
        return _error(45158, "tag name too long")
    if name in book.tags.values():
        return _error(45157, "tag name already exists")
    tag = next(book._ids)
    book.tags[tag] = name
    return web.json_response({"tag": {"id": tag, "name": name}})


@_checked
async def tag_members(request: web.Request, book: MenuBook, body: dict) -> web.Response:
    tag = body.get("tagid")
    if tag not in book.tags:
        return _error(45159, "invalid tag id")
    for openid in body.get("openid_list") or []:
        tags = [t for t in book.members.get(openid, []) if t != tag]
        book.members[openid] = tags + [tag] if request.path.endswith("/batchtagging") else tags
    return _error(0)


@_checked
async def try_match(request: web.Request, book: MenuBook, body: dict) -> web.Response:
    menu = book.menu_for(str(body.get("user_id", "")))
    return web.json_response(menu) if menu else _error(46002, "menu does not exist")


def setup(app: web.Application, platform: MockState) -> None:
    app[MENU_BOOK] = MenuBook(platform)
    app.router.add_get("/cgi-bin/menu/delete", delete_menu)
    app.router.add_post("/cgi-bin/menu/addconditional", add_conditional)
    app.router.add_post("/cgi-bin/menu/trymatch", try_match)
    app.router.add_get("/cgi-bin/tags/get", get_tags)
    app.router.add_post("/cgi-bin/tags/create", create_tag)
    app.router.add_post("/cgi-bin/tags/members/batchtagging", tag_members)
    app.router.add_post("/cgi-bin/tags/members/batchuntagging", tag_members)
