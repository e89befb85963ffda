"""/language: a chat answered in the language it chose, for everyone in it, across restarts."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.harness import API_KEY, BotProcess, ask
from tests.fakes.bot_api import FakeBotAPI, private_chat, supergroup, user
from tests.fakes.tracker import FakeTracker

pytestmark = pytest.mark.asyncio(loop_scope="module")

NOT_CONNECTED_EN = "This chat is not connected to a tracker"
NOT_CONNECTED_RU = "Этот чат не подключён к трекеру"


def team(tg: FakeBotAPI, uid: int) -> tuple[dict, dict, dict]:
    """A supergroup with an English-speaking admin and a plain member."""
    chat = supergroup(-1_000_000_000_000 - uid, f"Team {uid}")
    admin, member = user(uid, "Ada", "ada"), user(uid + 1, "Max", "max")
    tg.register_chat(chat)
    tg.set_member(chat["id"], admin, "administrator")
    tg.set_member(chat["id"], member, "member")
    return chat, admin, member


async def until(condition, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not get there in time")
        await asyncio.sleep(0.02)


async def test_an_english_user_switches_the_chat_to_russian_and_auto_restores(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    person = user(uid, "Alice")  # Telegram set to English
    chat = private_chat(person)
    [before] = await ask(tg, chat, person, "/status")
    assert before.text.startswith(NOT_CONNECTED_EN)

    [switched] = await ask(tg, chat, person, "/language RU")
    assert switched.text == "Теперь я отвечаю в этом чате по-русски."
    [status] = await ask(tg, chat, person, "/status")
    assert status.text.startswith(NOT_CONNECTED_RU)
    [usage] = await ask(tg, chat, person, "/postback")
    assert usage.text.startswith("Формат: /postback <id>")
    [connected] = await ask(tg, chat, person, f"/connect {tracker.url} {API_KEY}")
    assert connected.text.startswith("Чат подключён к трекеру")
    [found] = await ask(tg, chat, person, "/postback 42")
    assert found.text.startswith("Постбэк #42") and "\nКампания: " in found.text

    [restored] = await ask(tg, chat, person, "/language auto")
    assert restored.text == (
        "From now on I answer everyone in this chat in their own Telegram language."
    )
    [after] = await ask(tg, chat, person, "/postback 42")
    assert after.text.startswith("Postback #42") and "\nCampaign: " in after.text


async def test_a_wrong_argument_gets_the_usage_and_changes_nothing(
    bot: BotProcess, tg: FakeBotAPI, uid: int
):
    person = user(uid, "Bob", language_code="ru")
    chat = private_chat(person)
    for text in ("/language de", "/language ru en"):
        [usage] = await ask(tg, chat, person, text)
        assert usage.text.startswith("Формат: /language ru")
    [status] = await ask(tg, chat, person, "/status")
    assert status.text.startswith(NOT_CONNECTED_RU)


async def test_the_buttons_show_the_choice_and_a_press_changes_it(
    bot: BotProcess, tg: FakeBotAPI, uid: int
):
    person = user(uid, "Carol")
    chat = private_chat(person)
    [menu] = await ask(tg, chat, person, "/language")
    assert menu.text.startswith("Language in this chat: each user's Telegram language.")
    assert menu.reply_markup is not None
    buttons = [b for row in menu.reply_markup["inline_keyboard"] for b in row]
    assert [(b["text"], b["callback_data"]) for b in buttons] == [
        ("English", "language:en"),
        ("Русский", "language:ru"),
        ("Auto", "language:auto"),
    ]

    query = tg.press_button(chat["id"], menu.message_id, person, "Русский")
    assert await tg.wait_for_callback_answer(query) == {"callback_query_id": query}
    await until(lambda: menu.edit_count == 1)
    [edited] = [m for m in tg.messages(chat["id"]) if m.message_id == menu.message_id]
    assert edited.text == "Теперь я отвечаю в этом чате по-русски."

    [again] = await ask(tg, chat, person, "/language")
    assert again.text.startswith("Язык в этом чате: Русский.")


async def test_only_group_admins_change_the_groups_language_and_it_applies_to_all(
    bot: BotProcess, tg: FakeBotAPI, uid: int
):
    chat, admin, member = team(tg, uid)
    [refused] = await ask(tg, chat, member, "/language ru")
    assert refused.text == "Only admins of this group can change its language."
    [menu] = await ask(tg, chat, member, "/language")  # anyone may look
    query = tg.press_button(chat["id"], menu.message_id, member, "Русский")
    answer = await tg.wait_for_callback_answer(query)
    assert answer["text"] == refused.text and answer["show_alert"] is True
    assert menu.edit_count == 0
    [status] = await ask(tg, chat, member, "/status")
    assert status.text.startswith(NOT_CONNECTED_EN)

    [switched] = await ask(tg, chat, admin, "/language ru")
    assert switched.text == "Теперь я отвечаю в этом чате по-русски."
    # The member's Telegram is English; the group's choice wins, for everyone in it.
    [status] = await ask(tg, chat, member, "/status")
    assert status.text.startswith(NOT_CONNECTED_RU)
    # The member's private chat with the bot is another chat: still English there.
    [private] = await ask(tg, private_chat(member), member, "/status")
    assert private.text.startswith(NOT_CONNECTED_EN)


async def test_the_menu_offers_language_in_both_languages(bot: BotProcess, tg: FakeBotAPI):
    english, russian = tg.commands(), tg.commands(language_code="ru")
    assert {"command": "language", "description": "Choose the bot's language in this chat"} in (
        english
    )
    assert {"command": "language", "description": "Выбрать язык бота в этом чате"} in russian


async def test_the_chats_language_survives_a_restart(bot: BotProcess, tg: FakeBotAPI, uid: int):
    chat, admin, member = team(tg, uid)
    person = user(uid + 2, "Dan")
    await ask(tg, chat, admin, "/language ru")
    await ask(tg, private_chat(person), person, "/language ru")
    await ask(tg, private_chat(person), person, "/language auto")

    await bot.stop()
    await bot.start()

    [status] = await ask(tg, chat, member, "/status")
    assert status.text.startswith(NOT_CONNECTED_RU)
    [private] = await ask(tg, private_chat(person), person, "/status")
    assert private.text.startswith(NOT_CONNECTED_EN)
