"""`xinzhan serve`: run the service, optionally as several worker processes sharing one port.

Workers share nothing in memory: everything shared (dedup, locks, sessions, queue, tokens) is in
Redis, which is why the embedded fakeredis is refused with more than one worker.
"""
from __future__ import annotations

import multiprocessing
import os
import signal

from aiohttp import web

from bot import metrics
from bot.app import create_app
from bot.config import Config, ConfigError, load_config
from bot.logs import setup_logging


def serve_one(config: Config) -> None:
    setup_logging(os.environ.get("XZ_LOG_LEVEL", "INFO"))
    web.run_app(create_app(config), host=config.host, port=config.port, reuse_port=config.workers > 1,
                print=None, shutdown_timeout=15, access_log=None)


def serve(config: Config) -> int:
    if config.workers > 1 and not config.redis_url:
        raise ConfigError("XZ_REDIS_URL is required when XZ_WORKERS > 1 (workers share state through Redis)")
    print(f"xinzhan serving on http://{config.host}:{config.port} with {config.workers} worker(s)", flush=True)
    if config.workers == 1:
        serve_one(config)
        return 0
    metrics_done = metrics.prepare_worker_directory()  # before the workers start: they inherit it
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=serve_one, args=(config,), name=f"xinzhan-worker-{i}")
               for i in range(config.workers)]
    for w in workers:
        w.start()

    def forward(signum, _frame):
        for w in workers:
            if w.is_alive():
                os.kill(w.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for w in workers:
        w.join()
    metrics_done()
    return 0


def run(args) -> int:
    config = load_config()
    changes = {k: v for k, v in (("port", args.port), ("workers", args.workers), ("host", args.host)) if v}
    return serve(config.with_(**changes))


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help="run the service (configuration from XZ_* variables)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int)
    p.set_defaults(func=run)
