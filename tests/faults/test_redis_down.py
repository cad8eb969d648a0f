"""Redis stopped (a real server, killed): the webhook answers every try at once, a crisis with the
emergency numbers and anything else with the busy text; both messages are in the transcript, and
the crisis case is queued from the database when Redis is back."""
from __future__ import annotations

import itertools
import time

from sqlalchemy import select

from bot.app import create_app
from bot.appkeys import SERVICES
from handoff.content import local_hotline
from handoff.models import Case
from handoff.queue import CaseQueue
from tests.conftest import make_config, needs_real_db, settle
from tests.faults.retrying import RetryingPlatform, inbound_counts, text_xml
from tests.faults.test_redis_restart import CRISIS, wait_until

_ids = itertools.count(int(time.time() * 1000) * 10 + 5)


@needs_real_db
async def test_redis_down_crisis_gets_the_numbers_and_its_case_is_queued_when_redis_is_back(
        aiohttp_client, clean_database, mock_wechat, own_redis):
    config = make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/"), XZ_REDIS_URL=own_redis.url)
    client = await aiohttp_client(create_app(config))
    services = client.server.app[SERVICES]
    platform = RetryingPlatform(client, config)
    assert await platform.try_once(text_xml("o-before", "你好", next(_ids))) is not None
    await settle(services)

    await own_redis.stop()
    crisis_id, chat_id = str(next(_ids)), str(next(_ids))
    crisis = await platform.try_once(text_xml("o-crisis", CRISIS, int(crisis_id)))
    chat = await platform.try_once(text_xml("o-chat", "睡不着怎么办", int(chat_id)))
    assert crisis is not None and chat is not None, "a try got no answer while Redis was down"
    hotline = local_hotline(services.knowledge, "")
    assert crisis.text == services.knowledge.texts.get("safety.urgent_off_duty", "zh-Hans", hotline=hotline)
    assert chat.text == services.knowledge.texts.get("system.busy", "zh-Hans")
    counts = await inbound_counts(services)
    assert (counts[crisis_id], counts[chat_id]) == (1, 1)
    async with services.db() as session:
        case = await session.scalar(select(Case).where(Case.status == "waiting"))
    assert case is not None and case.level == 4

    await own_redis.start()
    queued = await wait_until(lambda: CaseQueue(services.redis).waiting())
    assert queued == [case.id], "the crisis case was not rebuilt into the queue from the database"
