"""The shape every flow shares: a small `transitions` machine whose model is the flow itself.

A flow is built for one turn from the resident's stored FlowState, gets one trigger (`begin`,
`receive`, `located`, `pause`), collects its replies, and is saved back, so any worker continues
any conversation. The state `done` means the flow is over and its state is cleared.
"""
from __future__ import annotations

from typing import ClassVar

from transitions.extensions.asyncio import AsyncMachine

from bot.stores.state import FlowState
from bot.values import Reply
from flows.context import Ctx

DONE = "done"


class Flow:
    name: ClassVar[str]
    states: ClassVar[list[str]]
    transitions: ClassVar[list[dict]]
    pausable: ClassVar[tuple[str, ...]] = ()  # states that offer "continue where you left off?" after a pause
    own_words: ClassVar[tuple[str, ...]] = ()  # text keys of words the flow answers itself, never read as intents

    state: str  # set by the machine

    def __init__(self, ctx: Ctx, state: str = "idle", data: dict | None = None) -> None:
        self.ctx = ctx
        self.data: dict = dict(data or {})
        self.replies: list[Reply] = []
        AsyncMachine(model=self, states=["idle", *self.states, DONE], transitions=self.transitions,
                     initial=state, auto_transitions=False, send_event=True)

    def say(self, text: str) -> None:
        self.replies.append(Reply(text=text))

    def t(self, key: str, **values: object) -> str:
        return self.ctx.t(key, **values)

    async def save(self) -> None:
        states = self.ctx.services.states
        if self.state == DONE:
            await states.clear(self.ctx.openid)
        else:
            await states.set(self.ctx.openid, FlowState(self.name, self.state, self.data))


def text_of(event) -> str:
    """The resident's text an event was triggered with (`receive(text)`)."""
    return event.args[0] if event.args else ""
