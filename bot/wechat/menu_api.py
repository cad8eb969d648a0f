"""Publishing the per-language menus, and keeping each resident's language tag, on the platform.

Publishing replaces everything: deleting the default menu deletes every conditional menu with it,
so a second publish leaves no stale ones. Then the default menu, then one conditional menu per
other language, matched by that language's tag (created when missing).
"""
from __future__ import annotations

import logging

from redis.exceptions import RedisError

from bot.wechat.api import WeChatAPI, WeChatAPIError
from bot.wechat.menu import DEFAULT_LANGUAGE, tag_name

log = logging.getLogger(__name__)

TAG_EXISTS = 45157


async def _get(api: WeChatAPI, path: str) -> dict:
    """The few GET endpoints (menu/delete, tags/get) with the shared token."""
    token = await api.access_token()
    return await api._request("GET", path, params={"access_token": token})


async def tag_ids(api: WeChatAPI) -> dict[str, int]:
    """The account's tags by name (read each time: language changes are rare, tags few)."""
    return {str(t.get("name")): int(t["id"]) for t in (await _get(api, "/cgi-bin/tags/get")).get("tags") or []}


async def ensure_tag(api: WeChatAPI, name: str) -> int:
    known = await tag_ids(api)
    if name in known:
        return known[name]
    try:
        return int((await api.call("/cgi-bin/tags/create", {"tag": {"name": name}}))["tag"]["id"])
    except WeChatAPIError as err:
        if err.errcode != TAG_EXISTS:  # made meanwhile by another publish
            raise
        return (await tag_ids(api))[name]


async def publish_menus(api: WeChatAPI, menus: dict[str, dict]) -> dict[str, int | None]:
    """Set the default menu and one conditional menu per other language; {language: tag id}."""
    await _get(api, "/cgi-bin/menu/delete")
    await api.create_menu(menus[DEFAULT_LANGUAGE])
    tags: dict[str, int | None] = {DEFAULT_LANGUAGE: None}
    for lang, menu in menus.items():
        if lang == DEFAULT_LANGUAGE:
            continue
        tags[lang] = await ensure_tag(api, tag_name(lang))
        await api.call("/cgi-bin/menu/addconditional", {**menu, "matchrule": {"tag_id": str(tags[lang])}})
    return tags


async def follow_language(api: WeChatAPI, openid: str, lang: str, languages: tuple[str, ...]) -> None:
    """Put the resident under `lang`'s tag and out of the other languages' tags, so the platform
    shows them the menu in the language they now read. Best effort: a language without a published
    menu has no tag and is skipped, and a failure leaves the menu as it was, logged."""
    try:
        known = await tag_ids(api)
        for other in languages:
            found = known.get(tag_name(other) or "")
            if found is None:
                continue
            path = "/cgi-bin/tags/members/batchtagging" if other == lang else "/cgi-bin/tags/members/batchuntagging"
            await api.call(path, {"openid_list": [openid], "tagid": found})
    except (WeChatAPIError, RedisError) as err:  # the token lives in Redis
        log.warning("menu language tag not updated",
                    extra={"error": type(err).__name__, "errcode": getattr(err, "errcode", None), "language": lang})
