"""`xinzhan menu publish`: set the official account's menu from its data file."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import aiohttp

from bot.config import load_config
from bot.redis_conn import connect_redis
from bot.wechat.api import WeChatAPI, WeChatAPIError
from bot.wechat.menu import MENU_FILE, load_menu
from knowledge.content import ContentError


async def _publish(menu: dict) -> None:
    config = load_config()
    redis = connect_redis(config.redis_url)
    async with aiohttp.ClientSession() as http:
        api = WeChatAPI(http, redis, base=config.wechat_api_base, appid=config.wechat_appid,
                        secret=config.wechat_secret)
        try:
            await api.create_menu(menu)
        finally:
            await redis.aclose()


def run(args) -> int:
    try:
        menu = load_menu(Path(args.file))
    except ContentError as exc:
        print(f"xinzhan: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps(menu, ensure_ascii=False, indent=2))
        return 0
    try:
        asyncio.run(_publish(menu))
    except WeChatAPIError as exc:
        print(f"xinzhan: {exc}", file=sys.stderr)
        return 1
    print(f"menu published: {len(menu['button'])} buttons")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("menu", help="the official account's menu")
    actions = p.add_subparsers(dest="action", required=True)
    publish = actions.add_parser("publish", help="set the menu from knowledge/data/wechat_menu.yaml")
    publish.add_argument("--file", default=str(MENU_FILE))
    publish.add_argument("--dry-run", action="store_true", help="check and print the menu, send nothing")
    publish.set_defaults(func=run)
