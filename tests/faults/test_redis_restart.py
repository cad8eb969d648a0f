"""Redis restarted mid-load (nothing kept on disk): the service comes back without a restart of its
own, every message is in the transcript once, the crisis case is queued again from the database,
and nothing is pushed twice."""
from __future__ import annotations

import asyncio
import itertools
import time

from sqlalchemy import select

from bot.app import create_app
from bot.appkeys import SERVICES
from handoff.models import Case
from handoff.queue import CaseQueue
from tests.conftest import make_config, needs_real_db, settle
from tests.faults.retrying import RetryingPlatform, duplicate_pushes, inbound_counts, text_xml

CRISIS = "我已经写好遗书，今晚就从楼顶跳下去"  # level 4: an urgent case
CHAT = ["你好", "菜单", "睡不着怎么办", "最近压力很大，考试焦虑", "谢谢"]
_ids = itertools.count(int(time.time() * 1000) * 10)


async def wait_until(check, timeout: float = 15.0, every: float = 0.2):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result or loop.time() > deadline:
            return result
        await asyncio.sleep(every)


@needs_real_db
async def test_redis_restart_mid_stream_loses_no_message_and_requeues_the_crisis(
        aiohttp_client, clean_database, mock_wechat, own_redis):
    config = make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/"), XZ_REDIS_URL=own_redis.url)
    client = await aiohttp_client(create_app(config))
    services = client.server.app[SERVICES]
    platform = RetryingPlatform(client, config, gap=1.0)

    stream = [(f"o-load-{i}", CHAT[i % len(CHAT)], str(next(_ids))) for i in range(18)]
    stream[4] = ("o-crisis", CRISIS, stream[4][2])
    answers: dict[str, object] = {}

    async def send(openid: str, content: str, msg_id: str) -> None:
        answers[msg_id] = await platform.deliver(text_xml(openid, content, int(msg_id)), msg_id)

    for item in stream[:8]:
        await send(*item)
    async with services.db() as session:
        case = await session.scalar(select(Case).where(Case.status == "waiting"))
    assert case is not None and await CaseQueue(services.redis).waiting() == [case.id]

    await own_redis.stop()
    during = [send(*item) for item in stream[8:11]]  # the platform retries these until answered
    await asyncio.wait_for(asyncio.gather(*during), timeout=60)  # answered while Redis is down
    await own_redis.start()
    for item in stream[11:]:
        await send(*item)
    await settle(services)

    assert all(answers[msg_id] is not None for *_, msg_id in stream), "a message was never answered"
    busy = services.knowledge.texts.get("system.busy", "zh-Hans")
    assert all(busy in answers[msg_id].text for *_, msg_id in stream[8:11]), "the outage was not felt"
    counts = await inbound_counts(services)
    assert {msg_id: counts[msg_id] for *_, msg_id in stream} == {msg_id: 1 for *_, msg_id in stream}
    requeued = await wait_until(lambda: CaseQueue(services.redis).waiting())
    assert requeued == [case.id], "the crisis case was not rebuilt into the queue from the database"
    after_id = next(_ids)
    after = await platform.try_once(text_xml("o-after", "菜单", after_id))
    assert after is not None, "the service does not answer again after Redis came back"
    await settle(services)
    assert (await inbound_counts(services))[str(after_id)] == 1
    assert duplicate_pushes(mock_wechat.state) == []
