"""The webhook's bad-input classes, fuzzed with hypothesis through real HTTP.

Whatever arrives, `/wechat` answers inside the handler: a 4xx for anything not a genuine, readable
message, 200 for a well-formed one it merely does not support; never a 500, never a transcript row
for a refused request, and nothing parked in the outage spool (a message the database refuses for
its shape would block that spool for every later one).
"""
from __future__ import annotations

import base64
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select
from wechatpy.crypto import WeChatCrypto

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.models import Message
from bot.wechat.security import sign
from bot.wechat.webhook import MAX_BODY
from tests.conftest import AES_KEY, APPID, make_config, settle
from tests.platform import ACCOUNT, Platform, cdata, message_xml

FUZZ = settings(max_examples=25, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
KNOWN_TYPES = {"text", "image", "voice", "video", "shortvideo", "location", "link", "event", "file", "miniprogrampage"}


async def message_rows(services) -> int:
    async with services.db() as session:
        return await session.scalar(select(func.count(Message.id)))


async def snapshot(services) -> tuple[int, int]:
    """Transcript rows and spooled messages once the turns' background writes are done."""
    await settle(services)
    return await message_rows(services), await services.spool.size()


async def assert_refused(answer, services, before: tuple[int, int], *statuses: int) -> None:
    assert 400 <= answer.status < 500, (answer.status, answer.body[:200])
    if statuses:
        assert answer.status in statuses, (answer.status, answer.body[:200])
    assert await snapshot(services) == before


async def assert_handled(answer, services, before: tuple[int, int]) -> None:
    """Accepted or refused, but decided by the handler: no 500, nothing parked in the spool."""
    assert answer.status == 200 or 400 <= answer.status < 500, (answer.status, answer.body[:200])
    rows, spooled = await snapshot(services)
    assert spooled == before[1]
    if answer.status != 200:
        assert rows == before[0]


def valid_xml(openid: str = "o-fuzz") -> str:
    return message_xml(openid, "text", {"Content": "你好"})


# --- signatures and timestamps -------------------------------------------------------------------

@FUZZ
@given(query=st.fixed_dictionaries({}, optional={"timestamp": st.text(max_size=20), "nonce": st.text(max_size=20),
                                                 "signature": st.text(max_size=60)}))
async def test_bad_or_missing_signatures_are_refused(client, platform, services, query):
    before = await snapshot(services)
    await assert_refused(await platform.post_raw(query, valid_xml()), services, before, 403)
    check = await client.get("/wechat", params={**query, "echostr": "echo-me"})
    assert check.status == 403 and "echo-me" not in await check.text()


@FUZZ
@given(timestamp=st.one_of(st.integers(min_value=310).map(lambda age: str(int(time.time()) - age)),
                           st.integers(min_value=310, max_value=10 ** 12).map(lambda ahead: str(int(time.time()) + ahead)),
                           st.text(max_size=20).filter(lambda t: not t.strip().lstrip("+-").isdigit())))
async def test_stale_future_or_unreadable_timestamps_are_refused_even_when_signed(platform, services, timestamp):
    before = await snapshot(services)
    query = {"timestamp": timestamp, "nonce": "n1", "signature": sign(platform.config.wechat_token, timestamp, "n1")}
    await assert_refused(await platform.post_raw(query, valid_xml()), services, before, 403)


# --- bodies: garbage, hostile XML, encodings, sizes ----------------------------------------------

@FUZZ
@given(body=st.one_of(st.binary(max_size=3000), st.text(max_size=3000),
                      st.text(max_size=200).map(lambda t: f"<xml><ToUserName>{t}</ToUserName></xml>")))
async def test_garbage_bodies_are_refused(platform, services, body):
    before = await snapshot(services)
    await assert_refused(await platform.post_raw(platform.signed_query(), body), services, before)


FIELDS = (f"<ToUserName>{cdata(ACCOUNT)}</ToUserName><FromUserName>{cdata('o-hostile')}</FromUserName>"
          "<CreateTime>{now}</CreateTime><MsgType>{cdata}</MsgType><MsgId>1{n}</MsgId>")


def hostile(kind: str, n: int) -> str:
    fields = FIELDS.replace("{cdata}", cdata("text")).replace("{now}", str(int(time.time()))).replace("{n}", str(n))
    return {
        "xxe": f'<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml>{fields}<Content>&x;</Content></xml>',
        "xxe_url": f'<!DOCTYPE xml [<!ENTITY x SYSTEM "http://127.0.0.1:1/x">]><xml>{fields}<Content>&x;</Content></xml>',
        "parameter_entity": f'<!DOCTYPE xml [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><xml>{fields}</xml>',
        "external_dtd": f'<!DOCTYPE xml SYSTEM "http://127.0.0.1:1/evil.dtd"><xml>{fields}</xml>',
        "internal_dtd": f'<!DOCTYPE xml [<!ELEMENT xml ANY>]><xml>{fields}<Content>hi</Content></xml>',
        "billion_laughs": ('<!DOCTYPE xml [<!ENTITY a "' + "lol" * 10 + '">'
                           + "".join(f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(n % 8 + 2))
                           + f"]><xml>{fields}<Content>&{chr(97 + n % 8 + 2)};</Content></xml>"),
        "quadratic_blowup": ('<!DOCTYPE xml [<!ENTITY a "' + "x" * 5000 + '">]>'
                             f"<xml>{fields}<Content>" + "&a;" * (n % 1000 + 100) + "</Content></xml>"),
        "deep_nesting_outside": "<xml>" + "<a>" * (n % 9000 + 1) + "</a>" * (n % 9000 + 1) + "</xml>",
        "deep_nesting_in_content": f"<xml>{fields}<Content>" + "<a>" * (n % 7000 + 1) + "x" + "</a>" * (n % 7000 + 1)
                                   + "</Content></xml>",
        "huge_attribute": f'<xml a="{"x" * (n % 60000 + 1)}">{fields}<Content>hi</Content></xml>'[:MAX_BODY],
        "many_attributes": "<xml " + " ".join(f'a{i}="1"' for i in range(n % 4000 + 1)) + f">{fields}</xml>",
        "processing_instruction": f'<?xml-stylesheet href="http://127.0.0.1:1/x"?><xml>{fields}<Content>hi</Content></xml>',
        "wrong_root": f"<html>{fields}</html>",
        "two_roots": f"<xml>{fields}</xml><xml>{fields}</xml>",
        "unclosed_cdata": f"<xml>{fields}<Content><![CDATA[hi</Content></xml>",
    }[kind]


REFUSED_XML = ("xxe", "xxe_url", "parameter_entity", "external_dtd", "internal_dtd", "billion_laughs",
               "quadratic_blowup", "deep_nesting_outside", "wrong_root", "two_roots", "unclosed_cdata")
TOLERATED_XML = ("deep_nesting_in_content", "huge_attribute", "many_attributes", "processing_instruction")


@FUZZ
@given(kind=st.sampled_from(REFUSED_XML), n=st.integers(min_value=0, max_value=10 ** 6))
async def test_hostile_xml_is_refused_before_anything_is_written(platform, services, kind, n):
    before = await snapshot(services)
    body = hostile(kind, n)
    await assert_refused(await platform.post_raw(platform.signed_query(), body), services, before,
                         *((413,) if len(body.encode()) > MAX_BODY else (400,)))


@FUZZ
@given(kind=st.sampled_from(TOLERATED_XML), n=st.integers(min_value=0, max_value=10 ** 6))
async def test_odd_but_safe_xml_is_handled_and_any_text_kept_is_plain(platform, services, kind, n):
    before = await snapshot(services)
    answer = await platform.post_raw(platform.signed_query(), hostile(kind, n))
    await assert_handled(answer, services, before)
    async with services.db() as session:
        contents = list(await session.scalars(select(Message.content).where(Message.direction == "in")))
    assert all(isinstance(c, str) and "{" not in c for c in contents)  # no parsed structure leaks in


ENCODINGS = ("gbk", "gb18030", "big5", "utf-16", "utf-16-be", "utf-32", "shift_jis", "latin-1")


@FUZZ
@given(encoding=st.sampled_from(ENCODINGS), words=st.text(alphabet="心站你好救命谢谢", min_size=1, max_size=50),
       declared=st.booleans())
async def test_bodies_not_in_utf8_are_refused_or_read_exactly_never_garbled(platform, services, encoding, words,
                                                                           declared):
    """The platform sends UTF-8. A body declaring another encoding is refused (decoded as UTF-8 it could
    read as other characters: GBK 站 is valid UTF-8 for վ); undeclared bytes are refused unless they
    happen to be valid UTF-8, and then they are what was signed."""
    before = await snapshot(services)
    openid = f"o-enc-{encoding}"
    xml = message_xml(openid, "text", {"Content": words})
    prolog = f'<?xml version="1.0" encoding="{encoding}"?>' if declared else ""
    answer = await platform.post_raw(platform.signed_query(), (prolog + xml).encode(encoding, "replace"))
    await assert_handled(answer, services, before)
    if declared:
        assert answer.status == 400


CONTENT_TYPES = ("application/json", "multipart/form-data; boundary=xyz", "application/x-www-form-urlencoded",
                 "text/html; charset=gbk", "image/png", "text/xml; charset=utf-16", "", "\u00e9/\u00e9")


@FUZZ
@given(content_type=st.sampled_from(CONTENT_TYPES), n=st.integers(min_value=1, max_value=10 ** 9))
async def test_a_declared_content_type_changes_nothing_the_signed_body_is_what_counts(client, platform, services,
                                                                                      content_type, n):
    before = await snapshot(services)
    query, body = platform.envelope(message_xml(f"o-ct{n % 97}", "text", {"Content": "你好"}))
    resp = await client.post("/wechat", params=query, data=body.encode(),
                             headers={"Content-Type": content_type.encode().decode("latin-1")})
    assert resp.status == 200
    assert (await snapshot(services))[0] > before[0]


@FUZZ
@given(size=st.integers(min_value=MAX_BODY + 1, max_value=8 * MAX_BODY), chunked=st.booleans())
async def test_oversized_bodies_are_refused_with_or_without_a_content_length(client, platform, services, size, chunked):
    before = await snapshot(services)
    xml = valid_xml().replace("你好", "好" * (size // 3))

    async def stream():
        data = xml.encode()
        for start in range(0, len(data), 16384):
            yield data[start:start + 16384]
    resp = await client.post("/wechat", params=platform.signed_query(), data=stream() if chunked else xml.encode())
    assert resp.status == 413
    assert await snapshot(services) == before


# --- fields: unknown types, huge values ----------------------------------------------------------

@FUZZ
@given(msg_type=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=200)
       .filter(lambda t: t.strip() and t.strip().lower() not in KNOWN_TYPES and "]]>" not in t))
async def test_an_unknown_msgtype_gets_success_or_a_refusal_never_a_crash(platform, services, msg_type):
    before = await snapshot(services)
    answer = await platform.send_xml(message_xml("o-unknown", msg_type, {"Content": "你好"}))
    await assert_handled(answer, services, before)


HUGE = st.integers(min_value=1, max_value=20000)


@FUZZ
@given(field=st.sampled_from(("Content", "FromUserName", "ToUserName", "MsgId", "CreateTime", "Event", "EventKey",
                              "Recognition", "Label", "Url")), size=HUGE, digits=st.booleans())
async def test_huge_field_values_are_handled_without_a_crash_or_a_stuck_spool(platform, services, field, size, digits):
    value = ("9" if digits else "长") * size
    fields = {"ToUserName": ACCOUNT, "FromUserName": "o-huge", "CreateTime": str(int(time.time())),
              "MsgType": "event" if field in ("Event", "EventKey") else "text", "MsgId": str(10 ** 12 + size),
              "Content": "你好", "Event": "CLICK", "EventKey": "MENU_TIPS"}
    fields[field] = value
    xml = "<xml>" + "".join(f"<{k}>{cdata(v)}</{k}>" for k, v in fields.items()) + "</xml>"
    before = await snapshot(services)
    await assert_handled(await platform.send_xml(xml), services, before)


# --- encrypted envelopes -------------------------------------------------------------------------

@pytest.fixture
async def safe(aiohttp_client, clean_database, mock_wechat):
    """A service in safe mode and a platform that encrypts to it."""
    config = make_config(clean_database, str(mock_wechat.make_url("")).rstrip("/"), XZ_WECHAT_AES_KEY=AES_KEY)
    client = await aiohttp_client(create_app(config))
    await client.server.app[SERVICES].redis.flushdb()
    return Platform(client, config, mode="safe")


def encrypt_value(platform: Platform, xml: str, query: dict, crypto: WeChatCrypto | None = None) -> str:
    encrypted = (crypto or platform.crypto).encrypt_message(xml, query["nonce"], query["timestamp"])
    return encrypted.split("<Encrypt><![CDATA[")[1].split("]]></Encrypt>")[0]


def aes_post(platform: Platform, query: dict, value: str, *, sign_it: bool = True) -> tuple[dict, str]:
    signature = sign(platform.config.wechat_token, query["timestamp"], query["nonce"], value) if sign_it else "0" * 40
    body = f"<xml><ToUserName>{cdata(ACCOUNT)}</ToUserName><Encrypt>{cdata(value)}</Encrypt></xml>"
    return {**query, "encrypt_type": "aes", "msg_signature": signature}, body


@FUZZ
@given(cut=st.integers(min_value=0, max_value=400), flips=st.lists(st.integers(min_value=0, max_value=10 ** 6), max_size=4),
       mode=st.sampled_from(("truncate", "flip", "random_base64", "not_base64", "empty_block", "padding")),
       noise=st.binary(min_size=1, max_size=300))
async def test_truncated_or_garbled_aes_envelopes_are_refused(safe, cut, flips, mode, noise):
    services = safe.client.server.app[SERVICES]
    before = await snapshot(services)
    query = safe.signed_query()
    good = encrypt_value(safe, valid_xml("o-aes"), query)
    raw = bytearray(base64.b64decode(good))
    value = {
        "truncate": good[:cut % len(good)],
        "flip": base64.b64encode(bytes(b ^ 0x5A if i in {f % len(raw) for f in flips} or not flips and i == 17 else b
                                       for i, b in enumerate(raw))).decode(),
        "random_base64": base64.b64encode(noise).decode(),
        "not_base64": "这不是base64!" + noise.hex(),
        "empty_block": base64.b64encode(bytes(32)).decode(),
        "padding": base64.b64encode(bytes(raw[:-16]) + bytes([0] * 16)).decode(),
    }[mode]
    await assert_refused(await safe.post_raw(*aes_post(safe, query, value)), services, before)


@FUZZ
@given(appid=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=32).filter(lambda a: a != APPID))
async def test_a_message_sealed_for_another_appid_is_refused(safe, appid):
    services = safe.client.server.app[SERVICES]
    before = await snapshot(services)
    query = safe.signed_query()
    other = WeChatCrypto(safe.config.wechat_token, AES_KEY, appid)
    value = encrypt_value(safe, valid_xml("o-other-app"), query, other)
    await assert_refused(await safe.post_raw(*aes_post(safe, query, value)), services, before, 403)


@FUZZ
@given(signature=st.text(max_size=60))
async def test_an_envelope_with_a_wrong_message_signature_is_refused(safe, signature):
    services = safe.client.server.app[SERVICES]
    before = await snapshot(services)
    query = safe.signed_query()
    post_query, body = aes_post(safe, query, encrypt_value(safe, valid_xml("o-badsig"), query))
    post_query["msg_signature"] = signature
    await assert_refused(await safe.post_raw(post_query, body), services, before, 403)
