"""Connecting a group in a private chat: the key never appears where the group can see it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from tests.e2e.harness import API_KEY, BotProcess, ask, no_reply
from tests.fakes.bot_api import FakeBotAPI, SentMessage, private_chat, supergroup, user
from tests.fakes.tracker import FakeTracker

pytestmark = pytest.mark.asyncio(loop_scope="module")

LINK = re.compile(r"https://t\.me/KeitaroTestBot\?start=([A-Za-z0-9_-]{1,64})")


def team(tg: FakeBotAPI, uid: int) -> tuple[dict, dict, dict]:
    """A supergroup with an admin and a plain member; the bot is an admin there."""
    chat = supergroup(-1_000_000_000_000 - uid, f"Team {uid}")
    admin, member = user(uid, "Ada", "ada"), user(uid + 1, "Max", "max")
    tg.register_chat(chat)
    tg.set_member(chat["id"], admin, "administrator")
    tg.set_member(chat["id"], member, "member")
    tg.set_member(chat["id"], tg.bot_user["id"], "administrator")
    return chat, admin, member


async def setup_link(tg: FakeBotAPI, chat: dict, admin: dict) -> str:
    """The admin's /connect in the group; returns the token of the deep link in its button."""
    [offer] = await ask(tg, chat, admin, "/connect")
    assert "without showing the API key here" in offer.text
    assert offer.reply_markup is not None
    [[button]] = offer.reply_markup["inline_keyboard"]
    match = LINK.fullmatch(button["url"])
    assert match, button
    return match.group(1)


async def group_is_connected(tg: FakeBotAPI, chat: dict, member: dict) -> bool:
    [reply] = await ask(tg, chat, member, "/postback 42")
    return reply.text.startswith("Postback #42")


def no_key_in(messages: list[SentMessage]) -> bool:
    return all(API_KEY not in m.raw_text for m in messages)


async def test_an_admin_connects_the_group_through_a_private_chat(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, member = team(tg, uid)
    token = await setup_link(tg, chat, admin)
    pm = private_chat(admin)
    [started] = await ask(tg, pm, admin, f"/start {token}")
    assert f"Connecting the group Team {uid}" in started.text

    asked = tg.send_message(pm, admin, f"{tracker.url} {API_KEY}")
    [done] = await tg.wait_for_messages(pm["id"])
    assert f"Connected the group Team {uid} to" in done.text
    assert "I deleted your message with the key" in done.text
    assert (pm["id"], asked) in tg.deleted
    [note] = await tg.wait_for_messages(chat["id"])
    assert note.text.startswith(f"Ada (@ada) connected this group to {tracker.url}.")

    assert await group_is_connected(tg, chat, member)
    [status] = await ask(tg, chat, member, "/status")
    assert "Connected by Ada (@ada)" in status.text
    [private_status] = await ask(tg, pm, admin, "/status")
    assert "not connected" in private_status.text  # the group was connected, not this chat
    assert no_key_in(tg.messages(pm["id"]) + tg.messages(chat["id"]))


async def test_the_address_and_the_key_may_come_one_after_the_other(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, member = team(tg, uid)
    pm = private_chat(admin)
    await ask(tg, pm, admin, f"/start {await setup_link(tg, chat, admin)}")
    asked_key = tg.send_message(pm, admin, API_KEY)  # the key first, then the address
    [need_url] = await tg.wait_for_messages(pm["id"])
    assert "Now send the tracker address" in need_url.text
    assert (pm["id"], asked_key) in tg.deleted
    asked_url = tg.send_message(pm, admin, tracker.url)
    [done] = await tg.wait_for_messages(pm["id"])
    assert "Connected the group" in done.text
    assert (pm["id"], asked_url) not in tg.deleted  # an address alone is no secret
    await tg.wait_for_messages(chat["id"])  # the note
    assert await group_is_connected(tg, chat, member)


async def test_someone_else_cannot_use_an_admins_link(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, member = team(tg, uid)
    other_admin = user(uid + 2, "Eve", "eve")
    tg.set_member(chat["id"], other_admin, "administrator")
    token = await setup_link(tg, chat, admin)
    for person in (member, other_admin):
        [refused] = await ask(tg, private_chat(person), person, f"/start {token}")
        assert "made for another admin" in refused.text
        [plain] = await ask(tg, private_chat(person), person, f"{tracker.url} {API_KEY}")
        assert "I only answer commands" in plain.text  # no setup was started for them
    assert not await group_is_connected(tg, chat, member)

    # Their attempts did not use the link up: its admin still can.
    [started] = await ask(tg, private_chat(admin), admin, f"/start {token}")
    assert "Connecting the group" in started.text


async def test_a_link_works_once(bot: BotProcess, tg: FakeBotAPI, uid: int):
    chat, admin, _ = team(tg, uid)
    pm = private_chat(admin)
    token = await setup_link(tg, chat, admin)
    [started] = await ask(tg, pm, admin, f"/start {token}")
    assert "Connecting the group" in started.text
    [again] = await ask(tg, pm, admin, f"/start {token}")
    assert "already used" in again.text
    [unknown] = await ask(tg, pm, admin, f"/start {token[:-1]}")
    assert "does not work" in unknown.text


async def test_a_wrong_key_is_not_saved_and_the_admin_can_try_again(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, member = team(tg, uid)
    pm = private_chat(admin)
    await ask(tg, pm, admin, f"/start {await setup_link(tg, chat, admin)}")
    asked = tg.send_message(pm, admin, f"{tracker.url} WRONG-key-0123456789abcdef")
    [rejected] = await tg.wait_for_messages(pm["id"])
    assert "HTTP 401" in rejected.text and "Nothing was saved" in rejected.text
    assert "Send the address and the key again" in rejected.text
    assert (pm["id"], asked) in tg.deleted
    assert await no_reply(tg, chat["id"], wait=0.5)  # no note in the group
    assert not await group_is_connected(tg, chat, member)

    [done] = await ask(tg, pm, admin, f"{API_KEY} {tracker.url}")  # either order
    assert "Connected the group" in done.text
    await tg.wait_for_messages(chat["id"])
    assert await group_is_connected(tg, chat, member)


async def test_cancel_stops_the_setup(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, member = team(tg, uid)
    pm = private_chat(admin)
    [nothing] = await ask(tg, pm, admin, "/cancel")
    assert "nothing to cancel" in nothing.text
    await ask(tg, pm, admin, f"/start {await setup_link(tg, chat, admin)}")
    [cancelled] = await ask(tg, pm, admin, "/cancel")
    assert f"Stopped connecting Team {uid}" in cancelled.text
    [plain] = await ask(tg, pm, admin, f"{tracker.url} {API_KEY}")
    assert "I only answer commands" in plain.text  # no longer read as setup input
    assert not await group_is_connected(tg, chat, member)


async def test_a_demoted_admin_cannot_finish_the_setup(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, member = team(tg, uid)
    pm = private_chat(admin)
    await ask(tg, pm, admin, f"/start {await setup_link(tg, chat, admin)}")
    tg.set_member(chat["id"], admin, "member")
    [refused] = await ask(tg, pm, admin, f"{tracker.url} {API_KEY}")
    assert f"no longer an admin of Team {uid}" in refused.text
    assert not await group_is_connected(tg, chat, member)


async def test_a_plain_member_gets_no_link(bot: BotProcess, tg: FakeBotAPI, uid: int):
    chat, _, member = team(tg, uid)
    [refused] = await ask(tg, chat, member, "/connect")
    assert "Only admins of this group" in refused.text
    assert refused.reply_markup is None


async def test_an_anonymous_admin_is_told_to_post_as_themselves(
    bot: BotProcess, tg: FakeBotAPI, uid: int
):
    chat, _, _ = team(tg, uid)
    [reply] = await ask(tg, chat, None, "/connect")
    assert "You are posting as the group" in reply.text
    assert "/connect <tracker-url> <api-key>" in reply.text
    assert reply.reply_markup is None


async def test_the_offer_is_in_the_admins_language(bot: BotProcess, tg: FakeBotAPI, uid: int):
    chat, _, _ = team(tg, uid)
    admin = user(uid + 3, "Olga", language_code="ru")
    tg.set_member(chat["id"], admin, "creator")
    [offer] = await ask(tg, chat, admin, "/connect")
    assert "не показывая здесь API-ключ" in offer.text
    assert offer.reply_markup is not None
    assert offer.reply_markup["inline_keyboard"][0][0]["text"] == "Подключить в личном чате"


async def test_an_expired_link_is_refused(tmp_path: Path, uid: int):
    # A bot of its own, with links that expire after a second.
    async with FakeBotAPI() as tg:
        process = BotProcess(tg, tmp_path, {"SETUP_LINK_TTL_SECONDS": "1"})
        await process.start()
        try:
            chat, admin, _ = team(tg, uid)
            token = await setup_link(tg, chat, admin)
            await asyncio.sleep(1.2)
            [expired] = await ask(tg, private_chat(admin), admin, f"/start {token}")
            assert "has expired" in expired.text
        finally:
            await process.stop()
        assert "Traceback" not in process.log()


async def test_the_group_note_speaks_the_groups_language(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, admin, _ = team(tg, uid)
    await ask(tg, chat, admin, "/language ru")
    [offer] = await ask(tg, chat, admin, "/connect")  # in the group's Russian
    [[button]] = offer.reply_markup["inline_keyboard"]
    token = LINK.fullmatch(button["url"]).group(1)
    pm = private_chat(admin)  # the admin's own Telegram is in English
    await ask(tg, pm, admin, f"/start {token}")
    [done] = await ask(tg, pm, admin, f"{tracker.url} {API_KEY}")
    assert "Connected the group" in done.text
    [note] = await tg.wait_for_messages(chat["id"])
    assert "подключил" in note.text.lower() or "подключила" in note.text.lower(), note.text
