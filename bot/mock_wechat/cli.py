"""`xinzhan mock-wechat`: serve the mock WeChat API on its own port."""
from __future__ import annotations

from aiohttp import web

from bot.mock_wechat.app import create_mock_app


def run(args) -> int:
    print(f"mock WeChat API on http://{args.host}:{args.port} (appid {args.appid})", flush=True)
    web.run_app(create_mock_app(args.appid, args.secret), host=args.host, port=args.port, print=None)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("mock-wechat", help="serve a mock of the WeChat API for tests and demos")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--appid", default="wxdemo0000000000")
    p.add_argument("--secret", default="demo-secret")
    p.set_defaults(func=run)
