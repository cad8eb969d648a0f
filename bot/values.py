"""Values that cross package boundaries: what a resident sent, and what the service answers.

Flows see only these, never WeChat XML, so a flow can be tested without the platform.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Inbound:
    """One message or event from a resident, already verified, decrypted and parsed."""

    openid: str
    kind: str  # text, image, voice, video, shortvideo, location, link, event
    received_at: datetime
    text: str = ""  # text content, or voice Recognition
    event: str = ""  # subscribe, unsubscribe, scan, location, click, view, templatesendjobfinish, ...
    event_key: str = ""  # menu key, QR scene (without the qrscene_ prefix), view URL
    latitude: float | None = None
    longitude: float | None = None
    label: str = ""  # location label, link title
    media_id: str = ""
    url: str = ""
    msg_id: str = ""
    status: str = ""  # TEMPLATESENDJOBFINISH / MASSSENDJOBFINISH status
    account: str = ""  # our official account's id (ToUserName), the sender of passive replies

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True)
class Article:
    title: str
    description: str = ""
    url: str = ""
    image: str = ""


@dataclass(frozen=True)
class Reply:
    """One answer to a resident: text, or news articles (a WeChat news reply)."""

    text: str = ""
    articles: tuple[Article, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if bool(self.text) == bool(self.articles):
            raise ValueError("a Reply carries either text or articles")

    @property
    def kind(self) -> str:
        return "news" if self.articles else "text"

    def summary(self) -> str:
        """What the transcript stores for this reply."""
        if self.text:
            return self.text
        return "\n".join(f"{a.title} {a.url}".strip() for a in self.articles)
