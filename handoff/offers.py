"""Transfers waiting to be accepted, in Redis: the only code that knows this key.

One hash, case id -> the offer as JSON (sender, receiver or the supervisor pool, when it was made).
A case has at most one offer; whoever removes it first (the receiver accepting or refusing, the
sweep timing it out, the case closing) decides what happens, because removal compares the whole
stored value in one script. While an offer waits the case stays the sender's, claim and all, so a
lost offer (Redis flushed) leaves the resident with the sender, never with nobody.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import redis.asyncio as aioredis

OFFERS_KEY = "xz:handoff:transfers"
OFFER_SECONDS = 60  # the receiver accepts within this, or the case stays with the sender

# KEYS: offers. ARGV: case id, the value read. Removes the offer only if it is still that one.
_TAKE = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Offer:
    case_id: int
    from_id: int
    to_id: int | None  # None: any supervisor on duty may accept
    at_ms: int

    @property
    def expires_ms(self) -> int:
        return self.at_ms + OFFER_SECONDS * 1000

    def is_for(self, staff_id: int, roles: frozenset[str]) -> bool:
        if self.to_id is None:
            return "supervisor" in roles and staff_id != self.from_id
        return self.to_id == staff_id

    def raw(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


class TransferOffers:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._take = redis.register_script(_TAKE)

    async def put(self, offer: Offer) -> bool:
        """Store the case's offer; False when one is already waiting."""
        return bool(await self._redis.hsetnx(OFFERS_KEY, str(offer.case_id), offer.raw()))

    async def get(self, case_id: int) -> Offer | None:
        raw = await self._redis.hget(OFFERS_KEY, str(case_id))
        return Offer(**json.loads(raw)) if raw else None

    async def all(self) -> list[Offer]:
        return [Offer(**json.loads(raw)) for raw in (await self._redis.hgetall(OFFERS_KEY)).values()]

    async def take(self, offer: Offer) -> bool:
        """Remove this very offer; True for the one caller that did."""
        return bool(await self._take(keys=[OFFERS_KEY], args=[str(offer.case_id), offer.raw()]))

    async def drop(self, case_id: int) -> None:
        """The case left its holder some other way (closed, put back, taken over): the offer is moot."""
        await self._redis.hdel(OFFERS_KEY, str(case_id))
