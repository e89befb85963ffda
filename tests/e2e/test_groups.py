"""Group chats: one shared connection, set by admins only, looked up by everyone."""

from __future__ import annotations

import pytest

from tests.e2e.harness import API_KEY, BotProcess, ask, no_reply
from tests.fakes.bot_api import FakeBotAPI, group, supergroup, user
from tests.fakes.tracker import FakeTracker

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHANNEL_BOT = user(136817688, "Channel", "Channel_Bot", None, is_bot=True)


def team(
    tg: FakeBotAPI, uid: int, *, forum: bool = False, basic: bool = False
) -> tuple[dict, dict, dict]:
    """A group with an admin and a plain member; the bot is an admin that may delete messages."""
    chat = (
        group(-uid, f"Team {uid}")
        if basic
        else supergroup(-1_000_000_000_000 - uid, f"Team {uid}", is_forum=forum)
    )
    admin, member = user(uid, "Ada", "ada"), user(uid + 1, "Max", "max")
    tg.register_chat(chat)
    tg.set_member(chat["id"], admin, "administrator")
    tg.set_member(chat["id"], member, "member")
    tg.set_member(chat["id"], tg.bot_user["id"], "administrator")
    tg.set_can_delete(chat["id"], True)
    return chat, admin, member


async def test_admin_connects_and_any_member_looks_up(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, member = team(tg, uid)
    asked = tg.send_message(chat, admin, f"/connect@KeitaroTestBot {tracker.url} {API_KEY}")
    [connected] = await tg.wait_for_messages(chat["id"])
    assert "Connected this chat" in connected.text and API_KEY not in connected.raw_text
    assert (chat["id"], asked) in tg.deleted

    asked = tg.send_message(chat, member, "/postback 42")
    [reply] = await tg.wait_for_messages(chat["id"])
    assert reply.text.startswith("Postback #42")
    assert reply.reply_to_message_id == asked  # in a busy group, the answer quotes the question

    [status] = await ask(tg, chat, member, "/status")
    assert "Ada (@ada)" in status.text


async def test_group_chat_id_is_64_bit(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat = supergroup(-1_009_999_999_999_999 + uid, "Huge id")
    admin = user(uid, "Ada")
    tg.register_chat(chat)
    tg.set_member(chat["id"], admin, "creator")
    await ask(tg, chat, admin, f"/connect {tracker.url} {API_KEY}")
    [reply] = await ask(tg, chat, admin, "/postback 42")
    assert reply.text.startswith("Postback #42")


async def test_plain_member_cannot_connect_or_disconnect(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, member = team(tg, uid)
    before = len(tracker.requests)
    asked = tg.send_message(chat, member, f"/connect {tracker.url} {API_KEY}")
    [refused] = await tg.wait_for_messages(chat["id"])
    assert "Only admins of this group" in refused.text
    assert (chat["id"], asked) in tg.deleted  # the key is taken out of sight all the same
    assert "I deleted your message with the key" in refused.text
    assert len(tracker.requests) == before
    [status] = await ask(tg, chat, member, "/status")
    assert "not connected" in status.text

    await ask(tg, chat, admin, f"/connect {tracker.url} {API_KEY}")
    [refused] = await ask(tg, chat, member, "/disconnect")
    assert "Only admins of this group" in refused.text
    [still] = await ask(tg, chat, member, "/postback 42")
    assert still.text.startswith("Postback #42")


async def test_unconnected_group_tells_members_an_admin_must_connect(
    bot: BotProcess, tg: FakeBotAPI, uid: int
):
    chat, _, member = team(tg, uid)
    [reply] = await ask(tg, chat, member, "/postback 42")
    assert "A group admin can connect it" in reply.text


async def test_commands_for_another_bot_are_ignored(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, member = team(tg, uid)
    await ask(tg, chat, admin, f"/connect {tracker.url} {API_KEY}")
    tg.send_message(chat, member, "/postback@OtherBot 42")
    assert await no_reply(tg, chat["id"])
    [reply] = await ask(tg, chat, member, "/postback@KeitaroTestBot 42")
    assert reply.text.startswith("Postback #42")


async def test_anonymous_admin_may_connect(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, _, member = team(tg, uid)
    [reply] = await ask(tg, chat, None, f"/connect {tracker.url} {API_KEY}")
    assert "Connected this chat" in reply.text
    [status] = await ask(tg, chat, member, "/status")
    assert "Connected by an anonymous admin" in status.text


async def test_a_channel_posting_into_the_group_is_not_an_admin(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, _, _ = team(tg, uid)
    channel = {"id": -1_000_000_777_000 - uid, "type": "channel", "title": "News"}
    [reply] = await ask(
        tg, chat, CHANNEL_BOT, f"/connect {tracker.url} {API_KEY}", sender_chat=channel
    )
    assert "Only admins of this group" in reply.text


async def test_a_forwarded_admin_command_does_not_count(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, _ = team(tg, uid)
    origin = {"type": "user", "date": 1, "sender_user": admin}
    [reply] = await ask(tg, chat, admin, "/disconnect", forward_origin=origin)
    assert "Only admins of this group" in reply.text


async def test_a_key_the_bot_cannot_delete_is_called_exposed(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, _ = team(tg, uid, basic=True)
    tg.set_can_delete(chat["id"], False)
    [reply] = await ask(tg, chat, admin, f"/connect {tracker.url} {API_KEY}")
    assert "Connected this chat" in reply.text
    assert "could not delete your message" in reply.text and "rotate the key" in reply.text
    # Every answer to a message holding a key says so, not only the successful one.
    [bad] = await ask(tg, chat, admin, f"/connect ftp://{tracker.url[7:]} {API_KEY}")
    assert "only http and https" in bad.text and "rotate the key" in bad.text
    [lone] = await ask(tg, chat, admin, f"/connect {API_KEY}")
    assert "Usage: /connect" in lone.text and "rotate the key" in lone.text


async def test_replies_stay_in_the_forum_topic(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, member = team(tg, uid, forum=True)
    topic = tg.create_topic(chat, "On-call")
    tg.send_message(chat, admin, f"/connect {tracker.url} {API_KEY}", message_thread_id=topic)
    [connected] = await tg.wait_for_messages(chat["id"])
    assert connected.message_thread_id == topic  # even though the command itself was deleted
    tg.send_message(chat, member, "/postback 42", message_thread_id=topic)
    [reply] = await tg.wait_for_messages(chat["id"])
    assert reply.message_thread_id == topic and reply.text.startswith("Postback #42")


async def test_admin_disconnects_the_group(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, member = team(tg, uid)
    await ask(tg, chat, admin, f"/connect {tracker.url} {API_KEY}")
    [reply] = await ask(tg, chat, admin, "/disconnect")
    assert "Disconnected" in reply.text
    [lookup] = await ask(tg, chat, member, "/postback 42")
    assert "not connected" in lookup.text


async def test_flood_control_delays_replies_and_loses_none(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, member = team(tg, uid)
    await ask(tg, chat, admin, f"/connect {tracker.url} {API_KEY}")
    tg.flood_limit(chat["id"], n=3, retry_after=1)
    asked = {tg.send_message(chat, member, f"/postback {pid}") for pid in (42, 43, 44) * 3}
    replies = await tg.wait_for_messages(chat["id"], count=9, timeout=30)
    assert {r.reply_to_message_id for r in replies} == asked
    assert all(r.text.startswith("Postback #4") for r in replies)
    refused = [
        c for c in tg.calls if c.method == "sendMessage" and c.params.get("chat_id") == chat["id"]
    ]
    assert len(refused) > 9  # Telegram said "retry after" at least once, and the bot did


async def test_an_edit_by_a_former_admin_is_checked_against_current_rights(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, member = team(tg, uid)
    await ask(tg, chat, admin, f"/connect {tracker.url} {API_KEY}")
    asked = tg.send_message(chat, admin, "/status")
    await tg.wait_for_messages(chat["id"])
    tg.set_member(chat["id"], admin, "member")  # demoted since
    tg.edit_message(chat["id"], asked, "/disconnect")
    [refused] = await tg.wait_for_messages(chat["id"])
    assert "Only admins of this group" in refused.text
    [still] = await ask(tg, chat, member, "/postback 42")
    assert still.text.startswith("Postback #42")


async def test_the_connection_follows_a_group_upgraded_to_a_supergroup(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, member = team(tg, uid, basic=True)
    await ask(tg, chat, admin, f"/connect {tracker.url} {API_KEY}")
    upgraded = supergroup(-1_000_000_000_000 - uid, chat["title"])
    tg.migrate_group(chat["id"], upgraded)
    tg.set_member(upgraded["id"], member, "member")
    for _ in range(50):  # the service messages are handled asynchronously
        tg.send_message(upgraded, member, "/status")
        [status] = await tg.wait_for_messages(upgraded["id"])
        if tracker.url in status.text:
            break
    assert tracker.url in status.text
    [reply] = await ask(tg, upgraded, member, "/postback 42")
    assert reply.text.startswith("Postback #42")
