"""Prometheus metrics through `/metrics`: each stage moves its series, labels stay bounded, workers add up."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.auth.users import add_user
from bot.values import Reply
from handoff.cases import claim
from handoff.queue import CaseQueue

LEVEL_4 = "我已经写好遗书，今晚就从楼顶跳下去"
ROOT = Path(__file__).resolve().parents[1]


async def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    """Every sample on /metrics as {(name, sorted labels): value}."""
    resp = await client.get("/metrics", headers=headers)
    assert resp.status == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(await resp.text()) for s in family.samples}


def moved(before: dict, after: dict, name: str, **labels) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_a_turn_moves_the_webhook_turn_and_every_stage_histogram(client, platform, services):
    before = await scrape(client)
    assert (await platform.text("o-metrics", "你好")).status == 200
    after = await scrape(client)
    assert moved(before, after, "xz_webhook_request_seconds_count", status="200") == 1
    assert moved(before, after, "xz_turn_seconds_count") == 1
    assert services.pipeline.names  # the stages a plain greeting passes through, up to the router
    for stage in services.pipeline.names:
        assert moved(before, after, "xz_stage_seconds_count", stage=stage) == 1, stage


async def test_a_refused_request_is_timed_under_its_status(client, platform):
    before = await scrape(client)
    query = {**platform.signed_query(), "signature": "0" * 40}
    assert (await platform.post_raw(query, "<xml/>")).status == 403
    assert moved(before, await scrape(client), "xz_webhook_request_seconds_count", status="403") == 1


async def test_a_crisis_message_moves_the_detectors_level_counter(client, platform):
    before = await scrape(client)
    await platform.text("o-metrics-crisis", LEVEL_4)
    after = await scrape(client)
    assert moved(before, after, "xz_crisis_readings_total", level="4") == 1
    assert moved(before, after, "xz_crisis_detector_seconds_count") == 1


async def test_a_claim_records_how_long_the_case_waited_and_the_queue_length_follows(client, platform, services):
    await platform.text("o-metrics-queue", LEVEL_4)
    queue = CaseQueue(services.redis)
    assert len(await queue.waiting()) == 1
    before = await scrape(client)
    assert before[("xz_handoff_queue_length", (("level", "4"),))] == 1
    staff = await add_user(services.db, "metrics-counsellor", "a long password", ["counsellor"])
    assert (await claim(services, staff.id)).status == "ok"
    await queue.waiting()
    after = await scrape(client)
    assert moved(before, after, "xz_handoff_queue_wait_seconds_count", level="4") == 1
    assert after[("xz_handoff_queue_length", (("level", "4"),))] == 0


async def test_outbound_api_calls_are_timed_by_path(client, services):
    before = await scrape(client)
    await services.api.send_reply("o-metrics-api", Reply(text="你好"))
    after = await scrape(client)
    assert moved(before, after, "xz_wechat_api_seconds_count", path="/cgi-bin/message/custom/send") == 1
    assert moved(before, after, "xz_wechat_api_calls_total", path="/cgi-bin/message/custom/send", outcome="ok") == 1


async def test_no_openid_or_message_text_ever_becomes_a_label(client, platform):
    await platform.text("o-label-probe-7f3a", "标签探针内容")
    body = await (await client.get("/metrics")).text()
    assert "o-label-probe-7f3a" not in body and "标签探针内容" not in body


def _count_in_a_worker(directory: Path, times: int) -> None:
    """A separate process, as `serve --workers` starts them, counting into the shared directory."""
    code = f"from bot import metrics; metrics.REQUESTS.labels(outcome='reply').inc({times})"
    env = {**os.environ, metrics.MULTIPROCESS_ENV: str(directory), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT)


async def test_metrics_add_up_across_worker_processes(client, tmp_path, monkeypatch):
    monkeypatch.setenv(metrics.MULTIPROCESS_ENV, str(tmp_path))
    _count_in_a_worker(tmp_path, 2)
    _count_in_a_worker(tmp_path, 3)
    samples = await scrape(client)
    assert samples[("xz_webhook_requests_total", (("outcome", "reply"),))] == 5


def test_serve_empties_the_workers_directory_before_they_start(tmp_path, monkeypatch):
    monkeypatch.setenv(metrics.MULTIPROCESS_ENV, str(tmp_path))
    _count_in_a_worker(tmp_path, 7)
    assert list(tmp_path.glob("*.db"))
    done = metrics.prepare_worker_directory()
    assert not list(tmp_path.glob("*.db"))
    done()
    assert tmp_path.is_dir()  # a directory the operator named is kept


def test_serve_removes_the_temporary_directory_it_made(monkeypatch):
    monkeypatch.delenv(metrics.MULTIPROCESS_ENV, raising=False)
    done = metrics.prepare_worker_directory()
    directory = Path(os.environ[metrics.MULTIPROCESS_ENV])
    assert directory.is_dir()
    done()
    assert not directory.exists() and metrics.MULTIPROCESS_ENV not in os.environ
