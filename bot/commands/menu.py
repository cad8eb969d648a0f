"""`xinzhan menu publish`: set the official account's menus, one per language, from their data file."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import aiohttp

from bot.config import load_config
from bot.redis_conn import connect_redis
from bot.wechat.api import WeChatAPI, WeChatAPIError
from bot.wechat.menu import MENU_FILE, load_menus
from bot.wechat.menu_api import publish_menus
from knowledge.content import ContentError


async def _publish(menus: dict[str, dict]) -> dict[str, int | None]:
    config = load_config()
    redis = connect_redis(config.redis_url)
    async with aiohttp.ClientSession() as http:
        api = WeChatAPI(http, redis, base=config.wechat_api_base, appid=config.wechat_appid,
                        secret=config.wechat_secret)
        try:
            return await publish_menus(api, menus)
        finally:
            await redis.aclose()


def run(args) -> int:
    try:
        menus = load_menus(Path(args.file))
    except ContentError as exc:
        print(f"xinzhan: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps(menus, ensure_ascii=False, indent=2))
        return 0
    try:
        tags = asyncio.run(_publish(menus))
    except WeChatAPIError as exc:
        print(f"xinzhan: {exc}", file=sys.stderr)
        return 1
    print("menus published: " + ", ".join(lang if tag is None else f"{lang} (tag {tag})" for lang, tag in tags.items()))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("menu", help="the official account's menu")
    actions = p.add_subparsers(dest="action", required=True)
    publish = actions.add_parser("publish", help="set the menus from knowledge/data/wechat_menu.yaml")
    publish.add_argument("--file", default=str(MENU_FILE))
    publish.add_argument("--dry-run", action="store_true", help="check and print the menus, send nothing")
    publish.set_defaults(func=run)
