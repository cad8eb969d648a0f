"""`xinzhan demo`: the whole service on embedded defaults, nothing to install or start.

SQLite under var/, in-process fakeredis, the mock WeChat API mounted at /mock-wechat, and demo
content seeded by each package. XZ_* variables still override, so a tester can set known secrets.
"""
from __future__ import annotations

import os

from aiohttp import web

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.config import load_config
from bot.logs import setup_logging
from bot.migrate import upgrade
from bot.mock_wechat.app import create_mock_app
from bot.modules import import_present

DEMO_SETTINGS = {
    "XZ_WECHAT_TOKEN": "xinzhan-demo-token",
    "XZ_WECHAT_AES_KEY": "XinZhanDemoAesKey0123456789abcdefghijklmnop",
    "XZ_WECHAT_APPID": "wxdemo0000000000",
    "XZ_WECHAT_SECRET": "demo-secret",
    "XZ_DATABASE_URL": "sqlite+aiosqlite:///var/xinzhan-demo.db",
    "XZ_HOST": "127.0.0.1",
    "XZ_SIMULATOR": "on",
}
MOCK_PREFIX = "/mock-wechat"


def demo_config(port: int | None):
    defaults = dict(DEMO_SETTINGS)
    chosen_port = port or int(os.environ.get("XZ_PORT") or 8080)
    defaults["XZ_PORT"] = str(chosen_port)
    defaults["XZ_WECHAT_API_BASE"] = f"http://127.0.0.1:{chosen_port}{MOCK_PREFIX}"
    defaults["XZ_PUBLIC_URL"] = f"http://127.0.0.1:{chosen_port}"  # residents' links open from the simulator
    env = {k: v for k, v in os.environ.items() if k != "XZ_PORT"}
    env["XZ_PORT"] = str(chosen_port)
    return load_config(env, defaults=defaults)


async def _seed(app: web.Application) -> None:
    """Each package seeds its own demo content (`seed_demo(app)`), idempotently."""
    from bot.app import PLUGINS

    for module in import_present(PLUGINS):
        seed = getattr(module, "seed_demo", None)
        if seed is not None:
            await seed(app)


def build_demo_app(config) -> web.Application:
    app = create_app(config)
    app.add_subapp(MOCK_PREFIX, create_mock_app(config.wechat_appid, config.wechat_secret))
    app.on_startup.append(_seed)
    return app


def banner(config) -> str:
    base = f"http://{config.host}:{config.port}"
    return "\n".join([
        "心站 xinzhan demo",
        f"  simulator (a resident's WeChat):  {base}/simulator",
        f"  counsellor console:               {base}/console",
        f"  admin:                            {base}/admin",
        f"  review:                           {base}/review",
        f"  webhook (point the platform here): {base}/wechat",
        f"  health / metrics:                 {base}/healthz  {base}/metrics",
        f"  Token:          {config.wechat_token}",
        f"  EncodingAESKey: {config.wechat_aes_key or '(plain mode)'}",
        f"  AppID:          {config.wechat_appid}",
        f"  WeChat API:     {config.wechat_api_base} (built-in mock)",
    ])


def run(args) -> int:
    config = demo_config(args.port)
    setup_logging(os.environ.get("XZ_LOG_LEVEL", "WARNING"))
    upgrade(config.database_url)
    print(banner(config), flush=True)
    web.run_app(build_demo_app(config), host=config.host, port=config.port, print=None, access_log=None)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="run the demo on embedded defaults (SQLite, fakeredis, mock WeChat)")
    p.add_argument("--port", type=int)
    p.set_defaults(func=run)
