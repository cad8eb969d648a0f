"""Fixtures for the conversation flows: a resident who talks to the service through the real webhook."""
from __future__ import annotations

import pytest

from bot.auth import COOKIE, SESSIONS
from bot.auth.users import add_user
from tests.conftest import settle
from tests.consent import CONSENT_TURNS


class Resident:
    """One resident's side of the chat: sends like WeChat does, reads the passive reply."""

    def __init__(self, platform, services, openid: str) -> None:
        self.platform = platform
        self.services = services
        self.openid = openid

    async def follow(self) -> str:
        return (await self.platform.event(self.openid, "subscribe")).text

    async def say(self, text: str) -> str:
        answer = await self.platform.text(self.openid, text)
        assert answer.status == 200
        await settle(self.services)
        return answer.text

    async def answer(self, text: str):
        answer = await self.platform.text(self.openid, text)
        await settle(self.services)
        return answer

    async def click(self, key: str) -> str:
        answer = await self.platform.event(self.openid, "CLICK", EventKey=key)
        await settle(self.services)
        return answer.text

    async def send_location(self, latitude: float, longitude: float, label: str = "") -> str:
        from tests.platform import message_xml

        answer = await self.platform.send_xml(message_xml(self.openid, "location", {
            "Location_X": str(latitude), "Location_Y": str(longitude), "Scale": "15", "Label": label}))
        await settle(self.services)
        return answer.text

    async def consent(self) -> None:
        """Agree to keep assessment results, as a resident does in the chat, and go back to the menu."""
        await self.answers(*CONSENT_TURNS)

    async def answers(self, *texts: str) -> str:
        """Send several messages; the last reply."""
        reply = ""
        for text in texts:
            reply = await self.say(text)
        return reply


@pytest.fixture
async def resident(platform, services):
    person = Resident(platform, services, "o-flows-resident")
    await person.follow()
    return person


@pytest.fixture
async def consented(resident):
    """The resident, having agreed to keep assessment results (`pytest.mark.usefixtures("consented")`)."""
    await resident.consent()
    return resident


@pytest.fixture
def make_resident(platform, services):
    async def make(openid: str, follow: bool = True) -> Resident:
        person = Resident(platform, services, openid)
        if follow:
            await person.follow()
        return person
    return make


@pytest.fixture
def staff_login(client, services):
    """Log a staff member in (a real session in the session store); returns headers for JSON calls."""
    async def login(username: str, *roles: str) -> dict:
        user = await add_user(services.db, username, "a-long-password", list(roles))
        session = await client.server.app[SESSIONS].create(user.id, user.credential)
        client.session.cookie_jar.update_cookies({COOKIE: session.sid})
        return {"X-CSRF-Token": session.csrf}
    return login


@pytest.fixture(scope="session")
def knowledge():
    from knowledge.library import load_knowledge

    return load_knowledge()


@pytest.fixture(scope="session")
def say(knowledge):
    """A resident-facing text in Simplified Chinese, as the service would word it."""
    def text(key: str, lang: str = "zh-Hans", **values) -> str:
        return knowledge.texts.get(key, lang, **values)
    return text
