"""What the mock platform remembers: issued tokens, sent messages per resident, injected faults."""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field


@dataclass
class Fault:
    """Answer the next `count` calls to paths starting with `path` with `errcode`, or with HTTP
    `status` (a gateway error), after `delay` seconds; errcode 0 and no status: delay, then deliver
    (a caller that gives up first delivered nothing). `deliver_first`: deliver at once and answer
    after `delay`, as when the platform took the message but its answer was slow or lost."""

    path: str
    errcode: int = -1
    count: int = 1
    delay: float = 0.0
    status: int = 0
    deliver_first: bool = False


@dataclass
class RateLimit:
    """A plain token bucket: calls beyond `per_second` get 45009, as a quota would."""

    per_second: float = 0.0  # 0 = unlimited
    _tokens: float = 0.0
    _at: float = 0.0

    def allow(self) -> bool:
        if self.per_second <= 0:
            return True
        now = time.monotonic()
        self._tokens = min(self.per_second, self._tokens + (now - self._at) * self.per_second)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


CLIENT_MSG_ID_SECONDS = 600  # the platform's de-duplication window for a template's client_msg_id


@dataclass
class MockState:
    appid: str
    secret: str
    tokens: list[str] = field(default_factory=list)  # newest last; the newest two are valid
    sent: list[dict] = field(default_factory=list)  # every accepted message, with a sequence number
    faults: list[Fault] = field(default_factory=list)
    rate: RateLimit = field(default_factory=RateLimit)
    menu: dict | None = None
    calls: int = 0
    deduplicated: int = 0  # template sends dropped as repeats of a (openid, client_msg_id) already sent
    _client_msg_ids: dict[tuple[str, str], dict] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def issue_token(self) -> str:
        token = f"mock-token-{next(self._ids)}"
        self.tokens.append(token)
        del self.tokens[:-2]  # the platform invalidates older tokens after a short overlap
        return token

    def token_valid(self, token: str) -> bool:
        return token in self.tokens

    def take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if path.startswith(fault.path) and fault.count > 0:
                fault.count -= 1
                if fault.count == 0:
                    self.faults.remove(fault)
                return fault
        return None

    def record(self, kind: str, payload: dict) -> dict:
        item = {"seq": next(self._ids), "kind": kind, "touser": payload.get("touser", ""),
                "payload": payload, "at": time.time()}
        self.sent.append(item)
        return item

    def record_template(self, payload: dict) -> dict:
        """As the platform does: one message per (openid, client_msg_id) within the window; a repeat
        is answered with the first one's msgid and not sent again."""
        key = (str(payload.get("touser", "")), str(payload.get("client_msg_id") or ""))
        if key[1]:
            first = self._client_msg_ids.get(key)
            if first is not None and time.time() - first["at"] < CLIENT_MSG_ID_SECONDS:
                self.deduplicated += 1
                return first
        item = self.record("template", payload)
        if key[1]:
            self._client_msg_ids[key] = item
        return item

    def sent_to(self, openid: str, after: int = 0) -> list[dict]:
        return [m for m in self.sent if m["touser"] == openid and m["seq"] > after]

    def reset(self) -> None:
        self.tokens.clear()
        self.sent.clear()
        self.faults.clear()
        self.rate = RateLimit()
        self.menu = None
        self.calls = 0
        self.deduplicated = 0
        self._client_msg_ids.clear()
