"""`xinzhan serve`: run the service, optionally as several worker processes sharing one port.

Workers share nothing in memory: everything shared (dedup, locks, sessions, queue, tokens) is in
Redis, which is why the embedded fakeredis is refused with more than one worker.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
from multiprocessing.connection import wait
from pathlib import Path

from aiohttp import web

from bot import metrics
from bot.app import create_app
from bot.config import Config, ConfigError, load_config
from bot.logs import setup_logging
from bot.malloc import return_freed_memory
from knowledge.content import DataFileError

log = logging.getLogger(__name__)


def serve_one(config: Config, serving=None) -> None:
    """One worker. `serving` (an Event) is set once the port is bound: run_app calls its `print`
    hook exactly then, with the startup banner we do not print. A bad content or model file stops
    it with one line naming the file, not a traceback."""
    setup_logging(config.log_level)
    return_freed_memory()
    try:
        web.run_app(create_app(config), host=config.host, port=config.port, reuse_port=config.workers > 1,
                    print=(lambda _banner: serving.set()) if serving is not None else None,
                    shutdown_timeout=15, access_log=None)
    except DataFileError as exc:  # a worker process: one line, then the supervisor stops the rest
        print(f"xinzhan: data file error: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)


def serve(config: Config) -> int:
    if config.workers > 1 and not config.redis_url:
        raise ConfigError("XZ_REDIS_URL is required when XZ_WORKERS > 1 (workers share state through Redis)")
    print(f"xinzhan serving on http://{config.host}:{config.port} with {config.workers} worker(s)", flush=True)
    if config.workers == 1:
        serve_one(config)
        return 0
    setup_logging(config.log_level)
    return supervise(config)


def supervise(config: Config) -> int:
    """Run the workers; one that dies while serving or is killed by a signal (SIGKILL, out of
    memory) is replaced, so the capacity comes back. One that exits on its own before it ever
    served (port taken, bad setting) would only fail again: then everything stops, status 1.
    """
    metrics_done = metrics.prepare_worker_directory()  # before the workers start: they inherit it
    ctx = multiprocessing.get_context("spawn")
    stopping = failed = False
    serving = [ctx.Event() for _ in range(config.workers)]

    def start(slot: int) -> multiprocessing.Process:
        serving[slot].clear()
        worker = ctx.Process(target=serve_one, args=(config, serving[slot]), name=f"xinzhan-worker-{slot}")
        worker.start()
        return worker

    workers = [start(slot) for slot in range(config.workers)]

    def forward(signum, _frame):
        nonlocal stopping
        stopping = True
        for w in workers:
            if w.is_alive():
                os.kill(w.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while not stopping:
        wait([w.sentinel for w in workers])
        for slot, worker in enumerate(workers):
            if stopping or worker.is_alive():
                continue
            if not serving[slot].is_set() and worker.exitcode >= 0:  # failed on its own, not killed
                log.error("worker died before serving; stopping", extra={"exitcode": worker.exitcode})
                failed = True
                forward(signal.SIGTERM, None)
                break
            log.warning("worker died; starting another", extra={"exitcode": worker.exitcode, "slot": slot})
            workers[slot] = start(slot)
    for w in workers:
        w.join()
    metrics_done()
    return 1 if failed else 0


def worker_pids(supervisor: int) -> list[int]:
    """The live worker processes of the `serve` supervisor with this pid (for benchmarks and tests:
    each worker is a multiprocessing `spawn_main` child; its helper processes are not)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == supervisor and b"spawn_main" in cmdline:
            pids.append(int(entry.name))
    return sorted(pids)


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
