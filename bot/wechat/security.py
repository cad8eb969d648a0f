"""Request authenticity: the platform's SHA-1 signature and a replay window on its timestamp."""
from __future__ import annotations

import hashlib
import hmac
import time


def sign(*parts: str) -> str:
    """The platform's signature: SHA-1 of the sorted, concatenated parts."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_ok(token: str, timestamp: str, nonce: str, signature: str) -> bool:
    return hmac.compare_digest(sign(token, timestamp, nonce).encode(), (signature or "").encode("utf-8", "surrogatepass"))


def timestamp_fresh(timestamp: str, window: int, now: float | None = None) -> bool:
    """Refuse replays: a signed timestamp older (or further ahead) than the window."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    return abs((now if now is not None else time.time()) - sent) <= window
