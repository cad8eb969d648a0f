"""The core services one worker holds, created once at start and shared by every request."""
from __future__ import annotations

from dataclasses import dataclass, field

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Config
from bot.messenger import Messenger
from bot.pipeline import Pipeline
from bot.record_parts import RecordParts
from bot.stores.cs_window import CsWindow
from bot.stores.dedup import DedupStore
from bot.stores.locks import ResidentLocks
from bot.stores.read_ahead import ReadAhead
from bot.stores.spool import Spool
from bot.stores.state import StateStore
from bot.tasks import TaskSet
from bot.transcript import Transcript
from bot.wechat.api import WeChatAPI
from knowledge.library import Knowledge


@dataclass
class Services:
    config: Config
    db: async_sessionmaker[AsyncSession]
    autocommit: async_sessionmaker[AsyncSession]  # one statement, no transaction: see bot.db
    redis: aioredis.Redis
    api: WeChatAPI
    transcript: Transcript
    messenger: Messenger
    states: StateStore
    locks: ResidentLocks
    dedup: DedupStore
    cs_window: CsWindow
    pipeline: Pipeline
    tasks: TaskSet
    spool: Spool
    knowledge: Knowledge  # every text, scale, tip and station, loaded and checked once at start
    read_ahead: ReadAhead = field(default_factory=ReadAhead)  # keys a turn reads with the resident's lock
    record_parts: RecordParts = field(default_factory=RecordParts)  # what packages add to the console's record
