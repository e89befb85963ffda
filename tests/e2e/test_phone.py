"""On a phone, in groups and topics: buttons under a reply, edited commands, and the places an
answer can lose its way (closed topics, deleted messages, upgraded groups, blocked bots)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from tests.e2e.harness import API_KEY, BotProcess, ask, no_reply
from tests.fakes.bot_api import FakeBotAPI, SentMessage, group, private_chat, supergroup, user
from tests.fakes.tracker import UNAUTHORIZED, FakeTracker, make_campaign, make_postback

pytestmark = pytest.mark.asyncio(loop_scope="module")

MASKED_KEY = "e2eK…9e8b"
CLICK_TOKEN = "click-token-never-shown-3c1f"


async def eventually(ready: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    for _ in range(int(timeout / 0.05)):
        if ready():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition did not become true in time")


def labels(message: SentMessage) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [button["text"] for row in rows for button in row]


async def connected_chat(tg: FakeBotAPI, tracker: FakeTracker, uid: int) -> tuple[dict, dict]:
    person = user(uid, "Alice", "alice")
    chat = private_chat(person)
    [reply] = await ask(tg, chat, person, f"/connect {tracker.url} {API_KEY}")
    assert "Connected" in reply.text, reply.text
    return chat, person


def team(tg: FakeBotAPI, chat: dict, uid: int) -> dict:
    """An admin in the group, with the bot an admin too."""
    admin = user(uid, "Ada", "ada")
    tg.register_chat(chat)
    tg.set_member(chat["id"], admin, "administrator")
    tg.set_member(chat["id"], tg.bot_user["id"], "administrator")
    return admin


def own_postback(tracker: FakeTracker, uid: int, name: str = "Summer sale") -> int:
    """A campaign of this test's own, so changing it disturbs no other test."""
    postback_id = uid * 10
    campaign = make_campaign(
        uid, name, postbacks=[make_postback(postback_id, uid)], token=CLICK_TOKEN
    )
    tracker.add_campaign(campaign)
    return postback_id


async def press(tg: FakeBotAPI, message: SentMessage, by: dict, label: str) -> dict:
    query = tg.press_button(message.chat_id, message.message_id, by, label)
    return await tg.wait_for_callback_answer(query)


async def test_refresh_edits_the_same_message_with_fresh_data(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    postback_id = own_postback(tracker, uid)  # before /connect, which reads the campaigns
    chat, person = await connected_chat(tg, tracker, uid)
    [reply] = await ask(tg, chat, person, f"/postback {postback_id}")
    title = f"Postback #{postback_id} · Summer sale\nCampaign: #{uid}, active"
    assert reply.text.startswith(title)
    assert labels(reply) == ["Refresh", "Details"]

    tracker.campaigns[uid]["name"] = "Winter sale"
    answer = await press(tg, reply, person, "Refresh")
    assert answer.get("text") == "Updated from the tracker."
    assert reply.edit_count == 1 and reply.text.startswith(f"Postback #{postback_id} · Winter")
    assert labels(reply) == ["Refresh", "Details"]  # the buttons stay for the next refresh

    answer = await press(tg, reply, person, "Refresh")
    assert answer.get("text") == "Up to date: nothing has changed on the tracker."
    assert reply.edit_count == 1
    assert len(tg.messages(chat["id"])) == 2  # /connect's answer and this one: nothing new


async def test_details_show_the_full_record_with_the_key_masked(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    postback_id = own_postback(tracker, uid)  # before /connect, which reads the campaigns
    chat, person = await connected_chat(tg, tracker, uid)
    [reply] = await ask(tg, chat, person, f"/postback {postback_id}")
    await press(tg, reply, person, "Details")
    [details] = await tg.wait_for_messages(chat["id"])
    title, body = details.text.split("\n", 1)
    assert title == f"Postback #{postback_id}: the full record"
    assert any(e["type"] == "pre" for e in details.entities)
    record = json.loads(body)
    assert set(record) == {"request", "resource", "operation", "data"}
    assert (record["resource"], record["operation"]) == ("postback", "get")
    assert record["request"]["method"] == "GET"
    assert record["request"]["url"].startswith(f"{tracker.url}/admin_api/v1/campaigns")
    assert record["request"]["headers"]["Api-Key"] == MASKED_KEY
    assert record["data"]["postback"]["id"] == postback_id
    assert record["data"]["campaign"]["name"] == "Summer sale"
    assert "token" not in record["data"]["campaign"]
    assert CLICK_TOKEN not in details.raw_text and API_KEY not in details.raw_text

    # A failed lookup offers Retry, and its details name the error.
    tracker.fail_with(UNAUTHORIZED)
    [failed] = await ask(tg, chat, person, f"/postback {postback_id}")
    assert "HTTP 401" in failed.text and labels(failed) == ["Retry", "Details"]
    await press(tg, failed, person, "Details")
    [details] = await tg.wait_for_messages(chat["id"])
    record = json.loads(details.text.split("\n", 1)[1])
    assert record["data"] is None
    assert record["error"] == {"type": "AuthError", "status": 401, "message": "Unauthorized"}
    assert record["request"]["headers"]["Api-Key"] == MASKED_KEY
    answer = await press(tg, failed, person, "Retry")  # still failing: said, message kept
    assert answer.get("show_alert") and "HTTP 401" in answer["text"]
    assert failed.edit_count == 0

    tracker.reset_faults()
    await press(tg, failed, person, "Retry")
    assert failed.text.startswith(f"Postback #{postback_id} · Summer sale")
    assert labels(failed) == ["Refresh", "Details"]


async def test_buttons_and_edits_after_a_restart(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    postback_id = own_postback(tracker, uid)  # before /connect, which reads the campaigns
    chat, person = await connected_chat(tg, tracker, uid)
    asked = tg.send_message(chat, person, f"/postback {postback_id}")
    [reply] = await tg.wait_for_messages(chat["id"])
    await bot.stop()
    await bot.start()

    tracker.campaigns[uid]["state"] = "disabled"
    answer = await press(tg, reply, person, "Refresh")
    assert answer.get("text") == "Updated from the tracker."
    assert f"Campaign: #{uid}, disabled" in reply.text
    await press(tg, reply, person, "Details")
    [details] = await tg.wait_for_messages(chat["id"])
    assert details.text.startswith(f"Postback #{postback_id}: the full record")

    # The restarted bot no longer knows which answer an old command got: a fresh reply.
    tg.edit_message(chat["id"], asked, "/postback 42")
    [fresh] = await tg.wait_for_messages(chat["id"])
    assert fresh.text.startswith("Postback #42 · Main campaign") and reply.edit_count == 1


async def test_a_button_only_acts_in_its_own_chat_and_odd_data_is_answered(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, person = await connected_chat(tg, tracker, uid)
    other, _ = await connected_chat(tg, tracker, uid + 1000)
    [reply] = await ask(tg, chat, person, "/postback 42")
    before = len(tracker.requests)

    forged = tg.press_button(chat["id"], reply.message_id, person, data=f"pb:d:{other['id']}:42")
    answer = await tg.wait_for_callback_answer(forged)
    assert answer["text"] == "This button belongs to another chat; it does nothing here."
    for data in ("garbage", "pb:r:1:0", "pb:x:1:42", "pb:r:1:99999999999"):
        query = tg.press_button(chat["id"], reply.message_id, person, data=data)
        answer = await tg.wait_for_callback_answer(query)
        assert answer["text"] == "This button does not work any more. Send the command again."
    assert len(tracker.requests) == before
    assert await no_reply(tg, chat["id"], wait=0.3) and await no_reply(tg, other["id"], wait=0.1)
    assert reply.edit_count == 0


async def test_an_edited_postback_edits_the_earlier_answer(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, person = await connected_chat(tg, tracker, uid)
    asked = tg.send_message(chat, person, "/postback 4")
    [reply] = await tg.wait_for_messages(chat["id"])
    assert "Postback 4 not found" in reply.text

    tg.edit_message(chat["id"], asked, "/postback 42")
    await eventually(lambda: reply.edit_count == 1)
    assert reply.text.startswith("Postback #42 · Main campaign")
    assert labels(reply) == ["Refresh", "Details"]
    assert await no_reply(tg, chat["id"], wait=0.5)


async def test_forum_topic_replies_survive_a_closed_or_deleted_topic(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat = supergroup(-1_000_000_000_000 - uid, f"Forum {uid}", is_forum=True)
    admin = team(tg, chat, uid)
    await ask(tg, chat, admin, f"/connect {tracker.url} {API_KEY}")
    topic = tg.create_topic(chat, "On-call")
    asked = tg.send_message(chat, admin, "/postback 42", message_thread_id=topic)
    [reply] = await tg.wait_for_messages(chat["id"])
    assert reply.message_thread_id == topic and reply.reply_to_message_id == asked
    await press(tg, reply, admin, "Details")
    [details] = await tg.wait_for_messages(chat["id"])
    assert details.message_thread_id == topic and details.reply_to_message_id == reply.message_id

    tg.close_topic(chat["id"], topic)
    tg.send_message(chat, admin, "/postback 42", message_thread_id=topic)
    [general] = await tg.wait_for_messages(chat["id"])
    assert general.text.startswith("Postback #42 · Main campaign")
    assert general.message_thread_id is None and general.reply_to_message_id is None

    tg.delete_topic(chat["id"], topic)
    tg.send_message(chat, admin, "/status", message_thread_id=topic)
    [status] = await tg.wait_for_messages(chat["id"])
    assert tracker.url in status.text and status.message_thread_id is None


async def test_a_deleted_command_message_still_gets_its_answer(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat = supergroup(-1_000_000_000_000 - uid, f"Forum {uid}", is_forum=True)
    admin = team(tg, chat, uid)
    await ask(tg, chat, admin, f"/connect {tracker.url} {API_KEY}")
    topic = tg.create_topic(chat, "Night shift")
    tracker.delay = 0.5  # the user deletes the command while the tracker thinks
    asked = tg.send_message(chat, admin, "/postback 42", message_thread_id=topic)
    await tg.wait_for_call("getUpdates")
    await asyncio.sleep(0.2)
    tg.delete_by_user(chat["id"], asked)
    [reply] = await tg.wait_for_messages(chat["id"])
    assert reply.text.startswith("Postback #42 · Main campaign")
    assert reply.message_thread_id == topic and reply.reply_to_message_id is None


async def test_an_answer_to_an_upgraded_group_goes_to_the_supergroup_with_its_connection(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat = group(-uid, f"Team {uid}")
    admin = team(tg, chat, uid)
    await ask(tg, chat, admin, f"/connect {tracker.url} {API_KEY}")
    upgraded = supergroup(-1_000_000_000_000 - uid, chat["title"])
    # The bot missed the migration service messages: only the failed send tells it.
    tg.migrate_group(chat["id"], upgraded, service_messages=False)
    tg.send_message(chat, admin, "/postback 42")
    [reply] = await tg.wait_for_messages(upgraded["id"])
    assert reply.text.startswith("Postback #42 · Main campaign")
    [status] = await ask(tg, upgraded, admin, "/status")
    assert tracker.url in status.text
    # Its buttons were made for the old id, and act in the supergroup it was sent to.
    query = tg.press_button(upgraded["id"], reply.message_id, admin, "Refresh")
    answer = await tg.wait_for_callback_answer(query)
    assert "another chat" not in answer.get("text", "")


async def test_a_group_that_removed_the_bot_loses_its_connection(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat = supergroup(-1_000_000_000_000 - uid, f"Team {uid}")
    admin = team(tg, chat, uid)
    await ask(tg, chat, admin, f"/connect {tracker.url} {API_KEY}")
    tg.set_bot_status(chat, "kicked", by=admin)
    line = f"chat {chat['id']}: the bot was removed (kicked); its tracker connection is deleted"
    await eventually(lambda: line in bot.log())

    tg.set_bot_status(chat, "member", by=admin)
    [status] = await ask(tg, chat, admin, "/status")
    assert "not connected" in status.text
    assert bot.log().count(line) == 1


async def test_a_user_who_blocked_the_bot_does_not_break_other_chats(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, person = await connected_chat(tg, tracker, uid)
    other, someone = await connected_chat(tg, tracker, uid + 1000)
    tg.set_bot_status(chat, "kicked", by=person)
    await eventually(lambda: f"chat {chat['id']}: the user blocked the bot" in bot.log())

    tg.send_message(chat, person, "/postback 42")  # sent before the block reached the bot
    [served] = await ask(tg, other, someone, "/postback 42")
    assert served.text.startswith("Postback #42 · Main campaign")
    refused = f"chat {chat['id']} cannot be written to: Forbidden: bot was blocked by the user"
    await eventually(lambda: refused in bot.log())
    assert bot.log().count(refused) == 1
    assert not [m for m in tg.messages(chat["id"]) if m.text.startswith("Postback")]


async def test_an_upgraded_group_keeps_its_language(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat = group(-uid, f"Team {uid}")
    admin = team(tg, chat, uid)
    await ask(tg, chat, admin, f"/connect {tracker.url} {API_KEY}")
    await ask(tg, chat, admin, "/language ru")
    upgraded = supergroup(-1_000_000_000_000 - uid, chat["title"])
    tg.migrate_group(chat["id"], upgraded, service_messages=False)
    tg.send_message(chat, admin, "/postback 42")  # meets the old id: ChatMigrated
    [reply] = await tg.wait_for_messages(upgraded["id"])
    assert reply.text.startswith("Постбэк #42")
    [status] = await ask(tg, upgraded, admin, "/status")
    assert status.text.startswith("Трекер:")
