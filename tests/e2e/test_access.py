"""ALLOWED_CHAT_IDS: a private bot serves its operator's chats and tells others why not."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.e2e.harness import API_KEY, BotProcess, ask, no_reply
from tests.fakes.bot_api import FakeBotAPI, private_chat, supergroup, user
from tests.fakes.tracker import FakeTracker

pytestmark = pytest.mark.asyncio(loop_scope="module")

TEAM = supergroup(-1_000_000_424_242, "Allowed team")
OWNER = user(424_242, "Owner")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def private_bot(
    tg: FakeBotAPI, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    env = {
        "KEITARO_ALLOW_PRIVATE_HOSTS": "true",
        "ALLOWED_CHAT_IDS": f"{OWNER['id']}, {TEAM['id']}",
    }
    process = BotProcess(tg, tmp_path_factory.mktemp("private"), env)
    await process.start()
    yield process
    await process.stop()


async def test_listed_private_chat_and_group_are_served(
    private_bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker
):
    [connected] = await ask(tg, private_chat(OWNER), OWNER, f"/connect {tracker.url} {API_KEY}")
    assert "Connected this chat" in connected.text
    tg.register_chat(TEAM)
    tg.set_member(TEAM["id"], OWNER, "creator")
    [reply] = await ask(tg, TEAM, OWNER, "/help")
    assert "/postback" in reply.text


async def test_other_chats_are_told_the_bot_is_private_and_nothing_happens(
    private_bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    stranger = user(uid, "Stranger", language_code="ru")
    before = len(tracker.requests)
    [reply] = await ask(tg, private_chat(stranger), stranger, f"/connect {tracker.url} {API_KEY}")
    assert "частный бот" in reply.text and str(uid) in reply.text
    assert len(tracker.requests) == before
    assert any(chat_id == uid for chat_id, _ in tg.deleted)  # the key is out of sight

    group = supergroup(-1_000_000_000_000 - uid, "Elsewhere")
    tg.send_message(group, stranger, "just chatting")
    assert await no_reply(tg, group["id"], wait=1.0)
