"""The outbound client: one shared token under concurrency, refresh on expiry, backoff, errors."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.mock_wechat.state import Fault
from bot.redis_conn import connect_redis
from bot.values import Article, Reply
from bot.wechat.api import TOKEN_KEY, WeChatAPI, WeChatAPIError
from tests.conftest import APPID, REAL_REDIS, SECRET


@pytest.fixture
async def redis():
    r = connect_redis(REAL_REDIS)
    await r.flushdb()
    yield r
    await r.flushdb()
    await r.aclose()


@pytest.fixture
async def make_api(mock_wechat, redis):
    sessions = []

    def make() -> WeChatAPI:
        session = aiohttp.ClientSession()
        sessions.append(session)
        return WeChatAPI(session, redis, base=str(mock_wechat.make_url("")).rstrip("/"),
                         appid=APPID, secret=SECRET, backoff=0.01)

    yield make
    for s in sessions:
        await s.close()


async def test_concurrent_sends_from_several_workers_fetch_one_token(make_api, mock_wechat):
    workers = [make_api() for _ in range(4)]  # four processes' clients sharing one Redis
    await asyncio.gather(*(workers[i % 4].send_reply(f"o-{i}", Reply(text="hi")) for i in range(40)))
    assert len(mock_wechat.state.tokens) == 1
    assert len(mock_wechat.state.sent) == 40


async def test_invalid_token_is_refreshed_once_and_the_call_retried(make_api, mock_wechat, redis):
    api = make_api()
    await api.send_reply("o-1", Reply(text="first"))
    await redis.set(TOKEN_KEY, "stale-token")
    await api.send_reply("o-1", Reply(text="second"))
    assert [m["payload"]["text"]["content"] for m in mock_wechat.state.sent_to("o-1")] == ["first", "second"]
    assert len(mock_wechat.state.tokens) == 2


async def test_expired_token_under_concurrency_is_refreshed_by_one_caller(make_api, mock_wechat, redis):
    api = make_api()
    await api.send_reply("o-warm", Reply(text="warm"))
    await redis.set(TOKEN_KEY, "expired-token")
    await asyncio.gather(*(api.send_reply(f"o-{i}", Reply(text="x")) for i in range(20)))
    assert len(mock_wechat.state.tokens) == 2  # the first, and exactly one refresh
    assert len(mock_wechat.state.sent) == 21


async def test_transient_errors_are_retried_with_backoff(make_api, mock_wechat):
    mock_wechat.state.faults.append(_fault("/cgi-bin/message/custom/send", -1, 2))
    await make_api().send_reply("o-busy", Reply(text="eventually"))
    assert len(mock_wechat.state.sent_to("o-busy")) == 1


async def test_persistent_transient_error_surfaces_after_retries(make_api, mock_wechat):
    mock_wechat.state.faults.append(_fault("/cgi-bin/message/custom/send", 45009, 5))
    with pytest.raises(WeChatAPIError) as err:
        await make_api().send_reply("o-quota", Reply(text="x"))
    assert err.value.errcode == 45009 and mock_wechat.state.sent == []


async def test_window_closed_error_is_not_retried(make_api, mock_wechat):
    mock_wechat.state.faults.append(_fault("/cgi-bin/message/custom/send", 45015, 1))
    with pytest.raises(WeChatAPIError) as err:
        await make_api().send_reply("o-late", Reply(text="x"))
    assert err.value.errcode == 45015 and not err.value.transient


async def test_a_timeout_is_an_error_not_retried(make_api, mock_wechat):
    """The send may have reached the resident before the answer was lost: trying again could send it twice."""
    api = make_api()
    api._timeout = aiohttp.ClientTimeout(total=0.1)
    slow = _fault("/cgi-bin/message/custom/send", 0, 3, delay=0.3)
    mock_wechat.state.faults.append(slow)
    with pytest.raises(WeChatAPIError) as err:
        await api.send_reply("o-slow", Reply(text="x"))
    assert not err.value.transient
    assert slow.count == 2  # one attempt of the three the fault would have slowed


async def test_an_unreachable_platform_is_retried(make_api):
    api = make_api()
    api._base, api._backoff = "http://127.0.0.1:1", 0.001  # connection refused: nothing was sent
    with pytest.raises(WeChatAPIError) as err:
        await api.call("/cgi-bin/message/custom/send", {})
    assert err.value.transient


async def test_news_and_template_messages_are_sent_in_platform_format(make_api, mock_wechat):
    api = make_api()
    await api.send_reply("o-news", Reply(articles=(Article("睡眠小贴士", "d", "http://x/1"),)))
    sent = await api.send_template("o-news", "TPL1", {"first": "您好"}, url="http://x/2")
    news, template = mock_wechat.state.sent_to("o-news")
    assert news["payload"]["news"]["articles"][0]["title"] == "睡眠小贴士"
    assert template["payload"]["data"] == {"first": {"value": "您好"}}
    assert sent.msgid == str(template["seq"])


def _fault(path, errcode, count, delay=0.0) -> Fault:
    return Fault(path=path, errcode=errcode, count=count, delay=delay)
