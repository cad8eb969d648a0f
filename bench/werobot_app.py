"""WeRoBot 1.13 answering the webhook benchmark's messages: the toolkit's own parse and reply, nothing stored.

Sessions off, no flow: each text or event gets one fixed text reply. Served by gunicorn with sync
workers (`webhook_bench.py --side-by-side` starts it); WeRoBot is a bench-only dependency:
    .venv/bin/pip install "werobot>=1.13,<1.14" gunicorn
"""
from __future__ import annotations

import werobot

TOKEN = "bench-token"  # the benchmark's signing token (bench/webhook_bench.py)

robot = werobot.WeRoBot(token=TOKEN, enable_session=False)


@robot.text
def text(message):
    return "收到"


@robot.handler
def anything_else(message):
    return "收到"


app = robot.wsgi
