"""Template messages as the platform shows them: typed fields with limits, no first/remark or emoji."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from knowledge.content import ContentError
from knowledge.library import load_knowledge
from scheduler import field_types, fanout, runs
from scheduler.audiences import Recipient
from scheduler.content import resident_context
from scheduler.models import Delivery
from scheduler.render import Renderer, RenderError
from scheduler.template_catalog import catalogue, load_catalogue
from tests.scheduler.conftest import make_campaign, make_residents
from tests.scheduler.test_admin import as_admin, csrf


@pytest.mark.parametrize("kind, value", [
    ("thing", "心理健康讲座"), ("thing", "好" * 20), ("time", "09:30"), ("time", "2025-03-01 09:30"),
    ("time", "2025年3月1日 09:30~11:00"), ("date", "2025-03-01"), ("number", "12.5"), ("phrase", "已报名"),
    ("character_string", "A-1024"), ("amount", "¥12.50"), ("phone_number", "+86-10-12345678"),
])
def test_values_of_their_type_fit(kind, value):
    assert field_types.problem(kind, value) == ""


@pytest.mark.parametrize("kind, value, why", [
    ("thing", "好" * 21, "超过 20 个字"), ("thing", "讲座🎉", "表情符号"), ("thing", "第一行\n第二行", "换行"),
    ("time", "明天上午", "格式不符"), ("time", "25:00", "格式不符"), ("phrase", "已经报名了啊", "超过 5 个字"), ("phrase", "ok", "格式不符"),
    ("number", "十二", "格式不符"), ("character_string", "编号12", "格式不符"),
])
def test_values_the_platform_would_cut_or_refuse_are_named(kind, value, why):
    found = field_types.problem(kind, value)
    assert found and why in found


def test_the_catalogue_has_no_field_the_platform_no_longer_shows():
    for template in catalogue().values():
        assert template.fields and not {f.key for f in template.fields} & {"first", "remark"}
        assert all(f.type in field_types.TYPES for f in template.fields)


def test_a_catalogue_with_a_remark_field_names_its_line(tmp_path):
    path = tmp_path / "templates.yaml"
    path.write_text("T1:\n  title: 通知\n  fields:\n    thing1: {label: 事项, type: thing}\n"
                    "    remark: {label: 备注, type: thing}\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"templates.yaml:5: 'remark' is no longer shown"):
        load_catalogue(path)


@pytest.mark.parametrize("fields, why", [
    ({"first": "{{ name }}您好"}, "平台已不再显示此字段"), ({"thing1": "请准时参加本周六下午在社区服务站举行的心理讲座"}, "超过 20 个字"),
    ({"thing1": "{{ name }}，周末愉快😊"}, "表情符号"), ({"keyword1": "x"}, "该模板没有此字段"),
])
def test_content_the_platform_would_not_show_is_refused_before_saving(fields, why):
    with pytest.raises(RenderError, match=why):
        Renderer("template", {"template_id": "SERVICE_NOTICE", "fields": fields})


def test_an_unconfigured_template_is_refused():
    with pytest.raises(RenderError, match="未在平台配置"):
        Renderer("template", {"template_id": "TPL1", "fields": {"thing1": "x"}})


def test_a_resident_whose_value_would_be_cut_is_refused_with_the_reason():
    long_name = Recipient(1, "o-long", "欧阳" * 10, "zh-Hans", "")
    renderer = Renderer("template", {"template_id": "SERVICE_NOTICE", "fields": {"thing1": "{{ name }}您好"}})
    with pytest.raises(RenderError, match="通知事项.*超过 20 个字"):
        renderer.render(resident_context(load_knowledge(), long_name, None, {}))


async def test_in_a_run_only_that_residents_push_fails(out, services, mock_wechat):
    await make_residents(services, 1, prefix="short", name="小王")
    await make_residents(services, 1, prefix="long", name="欧阳" * 10)
    run_id = await runs.open_run(out, await make_campaign(services), "x")
    assert await fanout.execute(out, run_id) == "done"
    assert [m["touser"] for m in mock_wechat.state.sent] == ["short-0"]
    async with services.db() as session:
        failed = await session.scalar(select(Delivery.error).where(Delivery.status == "failed"))
    assert "超过 20 个字" in failed


async def test_the_form_offers_each_configured_templates_fields_by_label(sched_client, services):
    client = await as_admin(sched_client, services)
    page = await (await client.get("/admin/campaigns")).text()
    for template in catalogue().values():
        assert f'<option value="{template.id}"' in page
        for field in template.fields:
            assert f'name="field.{template.id}.{field.key}"' in page and field.label in page
    assert 'name="fields"' not in page  # no free key: value lines any more


@pytest.mark.parametrize("value, why", [("请准时参加本周六下午在社区服务站举行的心理讲座", "超过 20 个字"),
                                        ("周末愉快🎉", "表情符号")])
async def test_the_form_refuses_a_value_the_platform_would_cut_or_refuse(sched_client, services, value, why):
    client = await as_admin(sched_client, services)
    token = await csrf(client, "/admin/campaigns")
    resp = await client.post("/admin/campaigns", data={
        "_csrf": token, "name": "通知", "channel": "template", "template_id": "SERVICE_NOTICE",
        "field.SERVICE_NOTICE.thing1": value, "kind": "manual"})
    assert resp.status == 400 and "通知事项（thing1）" in (text := await resp.text()) and why in text


async def test_the_form_refuses_a_time_field_that_is_not_a_time(sched_client, services):
    client = await as_admin(sched_client, services)
    token = await csrf(client, "/admin/campaigns")
    resp = await client.post("/admin/campaigns", data={
        "_csrf": token, "name": "讲座", "channel": "template", "template_id": "EVENT_REMINDER",
        "field.EVENT_REMINDER.thing1": "睡眠讲座", "field.EVENT_REMINDER.time2": "周六下午", "kind": "manual"})
    assert resp.status == 400 and "开始时间（time2）：格式不符" in await resp.text()


async def test_the_preview_is_the_card_with_the_platforms_labels(sched_client, services):
    client = await as_admin(sched_client, services)
    await make_residents(services, 1, prefix="card", name="小陈")
    campaign = await make_campaign(services, content={
        "template_id": "EVENT_REMINDER", "url": "https://example.org/e/1",
        "fields": {"thing1": "睡眠讲座", "time2": "2025-03-01 09:30", "thing3": "{{ name }}的社区服务站"}})
    page = await (await client.get(f"/admin/campaigns/{campaign}", params={"openid": "card-0"})).text()
    card = page[page.index('id="template-card"'):page.index("</div>\n<style>")]
    assert "活动开始提醒" in card and "活动名称" in card and "睡眠讲座" in card and "小陈的社区服务站" in card
    assert "thing1" not in card and "time2" not in card and 'href="https://example.org/e/1"' in card
