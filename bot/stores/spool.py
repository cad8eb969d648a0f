"""Inbound messages the database could not take, held in Redis until it is back.

During a database outage the webhook still answers, and nothing the resident said is lost: the
message waits here and is written (and its turn run) once the database answers again.

A drainer takes an entry by moving it, in one Lua script, from the waiting list to the taken ones
under a lease; the entry leaves Redis only once its write and turn are done. A drainer killed
half way leaves its entry taken, and once the lease lapses any drainer gives it back, first in line.
The lease is renewed while the entry is worked on, so a live drainer's entry is never given away.

A turn in flight is such a taken entry too (put there by the de-duplication claim, bot/stores/dedup.py),
so a worker killed mid-turn leaves its message to the drainers in the same way.
"""
from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import AsyncIterator

import redis.asyncio as aioredis

from bot.values import Inbound

KEY = "xz:spool:inbound"
TAKEN = "xz:spool:taken"  # ticket -> entry, for entries a drainer works on
LEASES = "xz:spool:leases"  # ticket -> when its lease lapses (Redis server time, ms)
TICKETS = "xz:spool:tickets"  # counts up: tickets number entries in the order they were taken
PARKED = "xz:spool:parked"  # entries the database refused for what they hold, not for being down
LEASE_SECONDS = 30.0

# Redis' own clock, so drainers on machines whose clocks differ agree on when a lease lapsed.
NOW_MS = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

# KEYS: waiting, taken, leases, tickets. ARGV: lease ms. Returns {ticket, entry}.
_TAKE = NOW_MS + """
local raw = redis.call('LPOP', KEYS[1])
if not raw then return false end
local ticket = tostring(redis.call('INCR', KEYS[4]))
redis.call('HSET', KEYS[2], ticket, raw)
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[1]), ticket)
return {ticket, raw}
"""

# KEYS: leases. ARGV: ticket, lease ms. Only a lease still held is extended.
_RENEW = NOW_MS + """
return redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1])
"""

# KEYS: taken, leases, destination list. ARGV: ticket, LPUSH or RPUSH ('' = drop the entry).
# A ticket already given back (its lease lapsed) is gone: the entry is not moved a second time.
SETTLE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if raw and ARGV[2] ~= '' then redis.call(ARGV[2], KEYS[3], raw) end
return raw and 1 or 0
"""

# KEYS: waiting, taken, leases. Lapsed entries go back in front, in the order they were taken.
_GIVE_BACK = NOW_MS + """
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
table.sort(lapsed, function(a, b) return tonumber(a) < tonumber(b) end)
for i = #lapsed, 1, -1 do
  local raw = redis.call('HGET', KEYS[2], lapsed[i])
  if raw then redis.call('LPUSH', KEYS[1], raw) end
  redis.call('HDEL', KEYS[2], lapsed[i])
  redis.call('ZREM', KEYS[3], lapsed[i])
end
return #lapsed
"""


@dataclass(frozen=True)
class Taken:
    """An entry a drainer (or a turn in flight) works on; the ticket settles it (done, put back or parked).

    `replied` is what the resident was already answered; `dedup_key` names the platform message whose
    retries wait on its turn (a turn in flight), told `success` once a drainer has finished it."""

    ticket: str
    inbound: Inbound
    replied: str
    dedup_key: str = ""
    lease: float | None = None  # seconds; None = the spool's own


def encode(inbound: Inbound, replied: str, dedup_key: str = "") -> str:
    # Inbound's fields are flat values: read them directly; asdict's deep copy (of the time, above all)
    # cost more than the whole JSON encoding, on every message.
    data = {f.name: getattr(inbound, f.name) for f in fields(Inbound)}
    data["received_at"] = inbound.received_at.isoformat()
    return json.dumps({"inbound": data, "replied": replied, "dedup": dedup_key}, ensure_ascii=False)


def _decode(raw: str) -> tuple[Inbound, str, str]:
    entry = json.loads(raw)
    data = entry["inbound"]
    data["received_at"] = datetime.fromisoformat(data["received_at"])
    return Inbound(**data), entry["replied"], entry.get("dedup", "")


class Spool:
    def __init__(self, redis: aioredis.Redis, lease: float = LEASE_SECONDS) -> None:
        self._redis = redis
        self._lease = lease
        self._take = redis.register_script(_TAKE)
        self._renew = redis.register_script(_RENEW)
        self._settle = redis.register_script(SETTLE)
        self._give_back = redis.register_script(_GIVE_BACK)

    async def hold(self, inbound: Inbound, replied: str) -> None:
        await self._redis.rpush(KEY, encode(inbound, replied))

    async def size(self) -> int:
        """Entries waiting for a drainer (not those being worked on)."""
        return await self._redis.llen(KEY)

    async def in_progress(self) -> int:
        return await self._redis.hlen(TAKEN)

    async def take(self) -> Taken | None:
        """The first waiting entry, now taken under a lease; None when nothing waits."""
        taken = await self._take(keys=[KEY, TAKEN, LEASES, TICKETS], args=[int(self._lease * 1000)])
        if not taken:
            return None
        ticket, raw = taken
        return Taken(ticket, *_decode(raw))

    @asynccontextmanager
    async def working_on(self, taken: Taken) -> AsyncIterator[None]:
        """Renew the entry's lease while its turn runs, however long that takes (a resident's lock,
        a slow API): only a drainer that died lets it lapse."""
        keeper = asyncio.create_task(self._keep(taken.ticket, taken.lease or self._lease), name="spool-lease")
        try:
            yield
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)

    async def _keep(self, ticket: str, lease: float) -> None:
        while True:
            await asyncio.sleep(lease / 3)
            await self._renew(keys=[LEASES], args=[ticket, int(lease * 1000)])

    async def done(self, taken: Taken) -> None:
        """Written and its turn run: the entry leaves Redis."""
        await self._settle(keys=[TAKEN, LEASES, KEY], args=[taken.ticket, ""])

    async def put_back(self, taken: Taken) -> None:
        """The database failed again: keep the message first in line."""
        await self._settle(keys=[TAKEN, LEASES, KEY], args=[taken.ticket, "LPUSH"])

    async def park(self, taken: Taken) -> None:
        """The database is up but refuses this entry: keep it aside, so it blocks nobody behind it."""
        await self._settle(keys=[TAKEN, LEASES, PARKED], args=[taken.ticket, "RPUSH"])

    async def parked(self) -> int:
        return await self._redis.llen(PARKED)

    async def give_back_lapsed(self) -> int:
        """Entries whose drainer died (its lease lapsed) wait again, in front. Returns how many."""
        return await self._give_back(keys=[KEY, TAKEN, LEASES])
