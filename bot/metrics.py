"""Prometheus metrics, one place for every counter and histogram the service exports.

Labels are closed sets chosen by the code (stage names, API paths, risk levels 0-4, HTTP statuses),
never openids or message text, so the number of series stays bounded.

`xinzhan serve --workers N` runs N processes; each writes its samples under one directory
(prometheus-client's multiprocess mode) and `/metrics` sums them, whichever worker answers.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, TypeVar

from prometheus_client import Counter, Gauge, Histogram

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"  # the name prometheus-client reads
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8)

REQUESTS = Counter("xz_webhook_requests_total", "Webhook requests by outcome", ["outcome"])
WEBHOOK_SECONDS = Histogram("xz_webhook_request_seconds", "Time to answer one POST /wechat, by HTTP status",
                            ["status"], buckets=LATENCY_BUCKETS)
TURN_SECONDS = Histogram("xz_turn_seconds", "Time for one bot turn", buckets=LATENCY_BUCKETS)
STAGE_SECONDS = Histogram("xz_stage_seconds", "Time in one pipeline stage, by stage name", ["stage"],
                          buckets=LATENCY_BUCKETS)
DETECTOR_SECONDS = Histogram("xz_crisis_detector_seconds", "Time for the crisis detector to read one message",
                             buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1))
DETECTIONS = Counter("xz_crisis_readings_total", "Crisis detector readings by risk level (0 = none)", ["level"])
QUEUE_WAIT = Histogram("xz_handoff_queue_wait_seconds", "From entering the queue to a counsellor's claim, by level",
                       ["level"], buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200))
# Every worker reads the same Redis queue, so the newest reading is the truth, not the sum.
QUEUE_LENGTH = Gauge("xz_handoff_queue_length", "Cases waiting in the queue, by risk level", ["level"],
                     multiprocess_mode="mostrecent")
DEDUP_HITS = Counter("xz_dedup_hits_total", "Platform retries answered without a second turn")
DEADLINE_MISSES = Counter("xz_deadline_misses_total", "Turns that missed the passive-reply deadline")
API_CALLS = Counter("xz_wechat_api_calls_total", "Outbound WeChat API calls", ["path", "outcome"])
API_SECONDS = Histogram("xz_wechat_api_seconds", "One outbound WeChat API HTTP request, by path", ["path"],
                        buckets=LATENCY_BUCKETS)
TOKEN_REFRESHES = Counter("xz_wechat_token_refreshes_total", "access_token fetches")
SPOOLED = Counter("xz_spooled_messages_total", "Messages held in Redis while the database was down")
REDIS_DOWN_ANSWERS = Counter("xz_redis_down_answers_total",
                             "Messages answered without a turn while Redis was unreachable, by reply "
                             "(emergency, busy, none) and transcript (written, lost, skipped)",
                             ["reply", "transcript"])
TURN_FAILURES = Counter("xz_turn_failures_total", "Turns whose stages raised; the resident got the busy reply")
PUSHES = Counter("xz_campaign_pushes_total", "Campaign deliveries by outcome", ["outcome"])

Reading = TypeVar("Reading")


def measured_detection(scan: Callable[..., Reading], *args) -> Reading:
    """Run the crisis detector, timing it and counting its reading's level."""
    started = time.perf_counter()
    risk = scan(*args)
    DETECTOR_SECONDS.observe(time.perf_counter() - started)
    DETECTIONS.labels(level=str(int(risk.level))).inc()
    return risk


def prepare_worker_directory() -> Callable[[], None]:
    """Give worker processes one empty directory for their samples, before any of them starts;
    returns what to call once they have all stopped.

    prometheus-client requires the directory to be emptied between runs, or old counts would be
    summed in. A directory named in PROMETHEUS_MULTIPROC_DIR is used (only its sample files are
    removed, at start); otherwise a temporary one is made, and removed at the end. Children
    inherit the variable.
    """
    named = os.environ.get(MULTIPROCESS_ENV, "")
    directory = Path(named or tempfile.mkdtemp(prefix="xinzhan-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_ENV] = str(directory)

    def done() -> None:
        if not named:
            shutil.rmtree(directory, ignore_errors=True)
            os.environ.pop(MULTIPROCESS_ENV, None)
    return done
