"""Structured JSON logs with a request id; message content never goes in a log line."""
from __future__ import annotations

import contextvars
import json
import logging
import sys

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                 "msg": record.getMessage(), "request_id": request_id.get()}
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(entry, ensure_ascii=False, default=str)


# Libraries whose debug output echoes SQL parameters or payloads, i.e. message content.
CONTENT_BEARING_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "asyncpg", "aiohttp.client", "aiohttp.access")


def quiet_content_loggers() -> None:
    """Whatever level the service runs at, these never log below WARNING."""
    for name in CONTENT_BEARING_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_content_loggers()
