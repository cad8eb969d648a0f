"""Campaign pushes while the WeChat API answers errors and timeouts: transient errors are retried
and each resident gets one push; a refused push is recorded as failed and not sent again when
the run is executed again; a push whose answer timed out is asked again with the same client_msg_id,
which the platform drops as a copy, so it is not sent a second time."""
from __future__ import annotations

from collections import Counter

import aiohttp
from sqlalchemy import select

from bot.mock_wechat.state import Fault
from scheduler import fanout, runs
from scheduler.models import Delivery
from tests.scheduler.conftest import TEST_SETTINGS, make_campaign, make_residents, out, sched_client, services, settings  # noqa: F401

TEMPLATE_SEND = "/cgi-bin/message/template/send"


def pushes(mock_wechat) -> Counter:
    return Counter(m["touser"] for m in mock_wechat.state.sent if m["kind"] == "template")


async def statuses(services, run_id: int) -> Counter:
    async with services.db() as session:
        return Counter(await session.scalars(select(Delivery.status).where(Delivery.run_id == run_id)))


async def test_transient_errors_during_a_run_are_retried_and_each_resident_gets_one_push(out, services, mock_wechat):
    await make_residents(services, 12, prefix="t")
    services.api._backoff = 0.001
    out.settings = TEST_SETTINGS.with_(concurrency=1)  # the first send meets both faults, then goes out
    mock_wechat.state.faults.append(Fault(path=TEMPLATE_SEND, errcode=-1))  # system busy
    mock_wechat.state.faults.append(Fault(path=TEMPLATE_SEND, status=503))  # a gateway error
    run_id = await runs.open_run(out, await make_campaign(services), "x")
    assert await fanout.execute(out, run_id) == "done"
    assert pushes(mock_wechat) == Counter({f"t-{i}": 1 for i in range(12)})
    assert await statuses(services, run_id) == Counter({"sent": 12})


async def test_a_refused_push_is_recorded_failed_and_not_sent_when_the_run_executes_again(out, services, mock_wechat):
    await make_residents(services, 6, prefix="f")
    services.api._backoff = 0.001
    mock_wechat.state.faults.append(Fault(path=TEMPLATE_SEND, errcode=-1, count=100))
    run_id = await runs.open_run(out, await make_campaign(services), "x")
    assert await fanout.execute(out, run_id) == "done"
    assert await statuses(services, run_id) == Counter({"failed": 6})
    mock_wechat.state.faults.clear()
    await fanout.execute(out, run_id)
    assert pushes(mock_wechat) == Counter()


async def test_a_push_whose_answer_timed_out_is_asked_again_and_not_sent_twice(out, services, mock_wechat):
    await make_residents(services, 3, prefix="s")
    services.api._backoff = 0.001
    services.api._timeout = aiohttp.ClientTimeout(total=0.5)
    mock_wechat.state.faults.append(Fault(path=TEMPLATE_SEND, errcode=0, delay=1.5, deliver_first=True))
    run_id = await runs.open_run(out, await make_campaign(services), "x")
    await fanout.execute(out, run_id)
    assert sum(pushes(mock_wechat).values()) >= 3
    assert max(pushes(mock_wechat).values()) == 1
    assert mock_wechat.state.deduplicated == 1  # the repeat of the push whose answer was lost
    async with services.db() as session:  # ... which the repeat's answer settles
        statuses = Counter(await session.scalars(select(Delivery.status).where(Delivery.run_id == run_id)))
    assert statuses == Counter(sent=3)
