"""Connect to Redis: the real server in production, in-process fakeredis for the demo and tests.

Both speak redis-py's asyncio API, so every store runs the same code on either.

No socket_timeout: redis-py 8 defaults it to 5 s, and with one set it wraps every command's socket
write in `asyncio.wait_for`, which on Python 3.11 drops a cancellation that arrives just as the
write finishes (CPython gh-86296, fixed in 3.12). A background loop cancelled at shutdown then kept
running and the cleanup awaiting it hung. Without it, writes and reads are plain awaits, as with
redis-py 5-7; a dead server still fails the connect within CONNECT_TIMEOUT.
"""
from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

CONNECT_TIMEOUT = 5.0
# redis-py's pool refuses a command beyond 100 connections in use (MaxConnectionsError, a
# ConnectionError), which the webhook would take for Redis being down: under a reply wave a worker
# with a few hundred turns in flight would answer "busy" while Redis is fine. Four workers at this
# cap stay far below Redis's 10,000 clients.
MAX_CONNECTIONS = 500
# Without a socket timeout a hung server (frozen, or its network black-holed) never answers. Where
# a resident waits on Redis (the webhook's de-duplication, the crisis handoff without a turn), a
# command gets this long, far beyond its usual sub-millisecond, before Redis is taken for down.
PATIENCE = 1.5
# What an unreachable, refusing or silent Redis raises (asyncio's TimeoutError is an OSError).
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


def connect_redis(url: str) -> aioredis.Redis:
    if url:
        return aioredis.Redis.from_url(url, decode_responses=True, health_check_interval=30,
                                       socket_timeout=None, socket_connect_timeout=CONNECT_TIMEOUT,
                                       max_connections=MAX_CONNECTIONS)
    import fakeredis  # embedded default: one process only, nothing to install or start

    return fakeredis.FakeAsyncRedis(decode_responses=True, socket_timeout=None, max_connections=MAX_CONNECTIONS)
