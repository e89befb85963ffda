"""The fake Bot API behaves like Telegram where the bot depends on it.

Most tests talk to it through python-telegram-bot itself, so they also prove PTB accepts
every answer the fake gives.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    ChatMemberAdministrator,
    ChatMemberOwner,
    ChatMemberRestricted,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CommandHandler,
    ContextTypes,
)

from tests.fakes import say
from tests.fakes.bot_api import (
    FakeBotAPI,
    HtmlParseError,
    group,
    parse_html,
    private_chat,
    supergroup,
    user,
)

ALICE = user(1001, "Alice", "alice")
BOB = user(1002, "Bob")
TEAM = supergroup(-1001234567890, "Team")


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url) as client:
        yield client


# --- Telegram HTML


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<b>bold <i>both</i></b> plain", "bold both plain"),
        ('<a href="https://example.com/?a=1&amp;b=2">link</a>', "link"),
        ('<pre><code class="language-python">x = 1 &lt; 2</code></pre>', "x = 1 < 2"),
        ("&lt;&gt;&amp;&quot;&#65;&#x42;", '<>&"AB'),
        ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "st"),
        ("<blockquote expandable>quote</blockquote>", "quote"),
        ("<strong>a</strong><em>b</em><ins>c</ins><strike>d</strike><del>e</del>", "abcde"),
        ("<B>upper case tags</B>", "upper case tags"),
        ("1 > 0", "1 > 0"),
    ],
)
def test_valid_html_is_accepted(html: str, text: str) -> None:
    assert parse_html(html)[0] == text


def test_html_entities_are_measured_in_utf16() -> None:
    text, entities = parse_html("😀 <b>bold</b> <a href='https://t.me'>x</a>")
    assert text == "😀 bold x"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "text_link", "offset": 8, "length": 1, "url": "https://t.me"},
    ]


def test_pre_with_a_language_is_one_entity() -> None:
    _, entities = parse_html('<pre><code class="language-sql">select</code></pre>')
    assert entities == [{"type": "pre", "offset": 0, "length": 6, "language": "sql"}]


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("Hello <foo>x</foo>", 'Unsupported start tag "foo" at byte offset 6'),
        ("clicks < 5", 'Unsupported start tag "" at byte offset 7'),
        ("ends with <", "Unclosed start tag at byte offset 10"),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
        ("Tom & Jerry", "Unsupported HTML entity at byte offset 4"),
        ("&nbsp;", "Unsupported HTML entity at byte offset 0"),
        ("&lt", "Unsupported HTML entity at byte offset 0"),
        ("&#0;", "Unsupported HTML entity at byte offset 0"),
        ("Привет <x>", 'Unsupported start tag "x" at byte offset 13'),
        ("<a>no href</a>", 'Tag "a" must have attribute "href" at byte offset 0'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_invalid_html_is_rejected_with_telegrams_reason(html: str, reason: str) -> None:
    with pytest.raises(HtmlParseError) as error:
        parse_html(html)
    assert str(error.value).startswith(reason)


async def test_bad_html_is_a_bad_request(fake: FakeBotAPI, bot: Bot) -> None:
    fake.register_chat(private_chat(ALICE))
    with pytest.raises(BadRequest) as error:
        await bot.send_message(ALICE["id"], "x <foo>", parse_mode="HTML")
    assert error.value.message == (
        'Can\'t parse entities: unsupported start tag "foo" at byte offset 2'
    )
    assert fake.messages(ALICE["id"]) == []


async def test_without_parse_mode_tags_are_plain_text(fake: FakeBotAPI, bot: Bot) -> None:
    fake.register_chat(private_chat(ALICE))
    sent = await bot.send_message(ALICE["id"], "a < b & <foo>")
    assert sent.text == "a < b & <foo>"


# --- Length


@pytest.mark.parametrize(
    ("html", "accepted"),
    [
        ("a" * 4096, True),
        ("a" * 4097, False),
        ("&lt;" * 4096, True),  # 16384 characters sent, 4096 shown
        ("&lt;" * 4097, False),
        ("<b>" + "a" * 4096 + "</b>", True),
        ("😀" * 2048, True),  # each emoji is 2 UTF-16 code units
        ("😀" * 2048 + "a", False),
        ("  \n" + "a" * 4096 + "\n  ", True),  # surrounding whitespace is trimmed
    ],
)
async def test_length_is_counted_in_utf16_after_parsing(
    fake: FakeBotAPI, bot: Bot, html: str, accepted: bool
) -> None:
    fake.register_chat(private_chat(ALICE))
    if accepted:
        await bot.send_message(ALICE["id"], html, parse_mode="HTML")
        return
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ALICE["id"], html, parse_mode="HTML")


@pytest.mark.parametrize("html", ["", "   ", "<b> </b>"])
async def test_empty_text_is_rejected(fake: FakeBotAPI, bot: Bot, html: str) -> None:
    fake.register_chat(private_chat(ALICE))
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(ALICE["id"], html, parse_mode="HTML")


# --- Transport


async def test_wrong_token_is_unauthorized(fake: FakeBotAPI) -> None:
    async with aiohttp.ClientSession() as http:
        response = await http.post(f"{fake.base_url}123:wrong/getMe")
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }
    with pytest.raises(InvalidToken):
        await Bot("123:wrong", base_url=fake.base_url).get_me()


async def test_unknown_method_is_not_found_and_names_are_case_insensitive(
    fake: FakeBotAPI,
) -> None:
    async with aiohttp.ClientSession() as http:
        response = await http.get(f"{fake.base_url}{fake.token}/sendTelepathy")
        assert response.status == 404
        assert await response.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found",
        }
        response = await http.get(f"{fake.base_url}{fake.token}/GETME")
        assert (await response.json())["result"]["username"] == "KeitaroTestBot"


@pytest.mark.parametrize("encoding", ["query", "form", "json"])
async def test_params_are_decoded_by_their_bot_api_type(fake: FakeBotAPI, encoding: str) -> None:
    fake.register_chat(private_chat(ALICE))
    params = {"chat_id": str(ALICE["id"]), "text": "42", "reply_markup": "{}"}
    url = f"{fake.base_url}{fake.token}/sendMessage"
    async with aiohttp.ClientSession() as http:
        if encoding == "query":
            response = await http.get(url, params=params)
        elif encoding == "form":
            response = await http.post(url, data=params)
        else:
            response = await http.post(url, json={**params, "chat_id": ALICE["id"]})
        body = await response.json()
    assert body["ok"], body
    assert body["result"]["text"] == "42"
    assert fake.calls[-1].params == {"chat_id": ALICE["id"], "text": "42", "reply_markup": {}}


async def test_ptb_multipart_and_json_encoded_params_are_understood(
    fake: FakeBotAPI, bot: Bot
) -> None:
    chat = private_chat(ALICE)
    asked = fake.send_message(chat, ALICE, "hi")
    await bot.send_message(
        ALICE["id"],
        "123",
        reply_parameters=ReplyParameters(asked),
        link_preview_options={"is_disabled": True},
    )
    [reply] = await fake.wait_for_messages(ALICE["id"])
    assert reply.text == "123"
    assert reply.reply_to_message_id == asked
    assert reply.link_preview_options == {"is_disabled": True}


# --- Long polling


async def test_long_poll_returns_promptly_when_an_update_arrives(
    fake: FakeBotAPI, bot: Bot
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for_call("getUpdates")
    fake.send_message(private_chat(ALICE), ALICE, "hello")
    [update] = await poll
    assert update.message is not None
    assert update.message.text == "hello"
    assert time.monotonic() - started < 1


async def test_long_poll_holds_until_its_timeout(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 2


async def test_offset_confirms_updates(fake: FakeBotAPI, bot: Bot) -> None:
    for text in ("one", "two"):
        fake.send_message(private_chat(ALICE), ALICE, text)
    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    assert await bot.get_updates(timeout=0) == first  # not confirmed yet: delivered again
    assert await bot.get_updates(offset=first[-1].update_id + 1, timeout=0) == ()
    fake.send_message(private_chat(ALICE), ALICE, "three")
    [third] = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert third.update_id == first[-1].update_id + 1


async def test_close_releases_a_pending_long_poll(fake: FakeBotAPI, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await fake.wait_for_call("getUpdates")
    started = time.monotonic()
    await fake.close()
    with contextlib.suppress(Exception):
        await poll
    assert time.monotonic() - started < 2


# --- Chats, replies, topics


async def test_unknown_chat_is_not_found(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "hi")


async def test_replying_to_a_deleted_message(fake: FakeBotAPI, bot: Bot) -> None:
    chat = group(-5001, "Ops")
    asked = fake.send_message(chat, ALICE, "secret")
    fake.set_member(chat["id"], fake.bot_user["id"], "administrator")
    assert await bot.delete_message(chat["id"], asked)
    assert fake.deleted == [(chat["id"], asked)]
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(chat["id"], "ok", reply_parameters=ReplyParameters(asked))
    sent = await bot.send_message(
        chat["id"],
        "ok",
        reply_parameters=ReplyParameters(asked, allow_sending_without_reply=True),
    )
    assert sent.reply_to_message is None


async def test_forum_topics(fake: FakeBotAPI, bot: Bot) -> None:
    forum = supergroup(-1009876543210, "Forum", is_forum=True)
    topic = fake.create_topic(forum, "Postbacks")
    asked = fake.send_message(forum, ALICE, "/postback 42", message_thread_id=topic)
    [update] = await bot.get_updates(timeout=0)
    assert update.message is not None
    assert update.message.is_topic_message
    assert update.message.reply_to_message is not None  # the topic's creation message
    assert update.message.reply_to_message.forum_topic_created is not None

    await update.message.reply_text("found")  # PTB keeps the topic
    [reply] = await fake.wait_for_messages(forum["id"], thread_id=topic)
    assert reply.reply_to_message_id == asked

    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(forum["id"], "x", message_thread_id=topic + 100)
    fake.close_topic(forum["id"], topic)
    with pytest.raises(BadRequest, match="Topic_closed"):
        await bot.send_message(forum["id"], "x", message_thread_id=topic)
    fake.delete_topic(forum["id"], topic)
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(forum["id"], "x", message_thread_id=topic)


async def test_commands_get_a_bot_command_entity(fake: FakeBotAPI, bot: Bot) -> None:
    fake.send_message(TEAM, ALICE, "/postback@KeitaroTestBot 42")
    fake.send_message(TEAM, None, "/start")  # an anonymous admin
    [command, anonymous] = await bot.get_updates(timeout=0)
    assert command.message is not None
    assert [(e.type, e.offset, e.length) for e in command.message.entities] == [
        ("bot_command", 0, len("/postback@KeitaroTestBot"))
    ]
    assert anonymous.message is not None
    assert anonymous.message.from_user is not None
    assert anonymous.message.from_user.username == "GroupAnonymousBot"
    assert anonymous.message.sender_chat is not None
    assert anonymous.message.sender_chat.id == TEAM["id"]


async def test_edits(fake: FakeBotAPI, bot: Bot) -> None:
    fake.register_chat(private_chat(ALICE))
    sent = await bot.send_message(ALICE["id"], "<b>working</b>", parse_mode="HTML")
    await bot.edit_message_text("<b>done</b>", ALICE["id"], sent.message_id, parse_mode="HTML")
    [stored] = fake.messages(ALICE["id"])
    assert (stored.text, stored.edit_count) == ("done", 1)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("<b>done</b>", ALICE["id"], sent.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match="Can't parse entities: can't find end tag"):
        await bot.edit_message_text("<b>done", ALICE["id"], sent.message_id, parse_mode="HTML")

    fake.send_message(private_chat(ALICE), ALICE, "typo")
    fake.edit_message(ALICE["id"], sent.message_id + 1, "fixed")
    updates = await bot.get_updates(timeout=0)
    assert updates[-1].edited_message is not None
    assert updates[-1].edited_message.text == "fixed"


async def test_deleting_others_messages_needs_the_right(fake: FakeBotAPI, bot: Bot) -> None:
    chat = group(-5002, "Sales")
    pasted = fake.send_message(chat, ALICE, "my api key is 0123")
    with pytest.raises(BadRequest, match="Message can't be deleted"):
        await bot.delete_message(chat["id"], pasted)
    fake.set_can_delete(chat["id"], True)
    assert await bot.delete_message(chat["id"], pasted)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(chat["id"], pasted)

    in_private = fake.send_message(private_chat(ALICE), ALICE, "key 0123")
    assert await bot.delete_message(ALICE["id"], in_private)


async def test_writing_where_the_bot_is_not_welcome_is_forbidden(
    fake: FakeBotAPI, bot: Bot
) -> None:
    fake.send_message(private_chat(ALICE), ALICE, "/start")
    fake.set_blocked(ALICE["id"])
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ALICE["id"], "hi")
    fake.send_message(TEAM, BOB, "/start")
    fake.set_member(TEAM["id"], fake.bot_user["id"], "kicked")
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await bot.send_message(TEAM["id"], "hi")


async def test_a_group_upgraded_to_a_supergroup(fake: FakeBotAPI, bot: Bot) -> None:
    old = group(-5004, "Growing")
    fake.send_message(old, ALICE, "/start")
    new = supergroup(-1005004, "Growing")
    fake.migrate_group(old["id"], new)
    with pytest.raises(ChatMigrated) as error:
        await bot.send_message(old["id"], "hi")
    assert error.value.new_chat_id == new["id"]
    updates = await bot.get_updates(timeout=0)
    assert [(u.effective_chat.id, u.message.migrate_to_chat_id) for u in updates[1:2]] == [
        (old["id"], new["id"])
    ]
    assert (await bot.send_message(new["id"], "hi")).chat.id == new["id"]


async def test_chat_members_parse_in_ptb(fake: FakeBotAPI, bot: Bot) -> None:
    fake.send_message(TEAM, ALICE, "hi")
    fake.set_member(TEAM["id"], ALICE, "creator")
    fake.set_member(TEAM["id"], BOB, "administrator")
    fake.set_member(TEAM["id"], 1003, "restricted")
    assert isinstance(await bot.get_chat_member(TEAM["id"], ALICE["id"]), ChatMemberOwner)
    assert isinstance(await bot.get_chat_member(TEAM["id"], BOB["id"]), ChatMemberAdministrator)
    assert isinstance(await bot.get_chat_member(TEAM["id"], 1003), ChatMemberRestricted)
    for status in ("member", "left", "kicked"):
        fake.set_member(TEAM["id"], 1004, status)
        assert (await bot.get_chat_member(TEAM["id"], 1004)).status == status
    admins = await bot.get_chat_administrators(TEAM["id"])
    assert {a.user.id for a in admins} == {ALICE["id"], BOB["id"]}
    assert (await bot.get_chat(TEAM["id"])).title == "Team"


async def test_flood_control_is_a_retry_after(fake: FakeBotAPI, bot: Bot) -> None:
    fake.register_chat(private_chat(ALICE))
    fake.flood_limit(ALICE["id"], 2, retry_after=3)
    await bot.send_message(ALICE["id"], "1")
    await bot.send_message(ALICE["id"], "2")
    with pytest.raises(RetryAfter) as error:
        await bot.send_message(ALICE["id"], "3")
    assert error.value.message == "Flood control exceeded. Retry in 3 seconds"


async def test_commands_are_stored_per_scope_and_language(fake: FakeBotAPI, bot: Bot) -> None:
    fake.register_chat(TEAM)
    await bot.set_my_commands([BotCommand("postback", "Find a postback")])
    await bot.set_my_commands([BotCommand("postback", "Найти постбэк")], language_code="ru")
    await bot.set_my_commands(
        [BotCommand("setkey", "Set the API key")], scope=BotCommandScopeChat(TEAM["id"])
    )
    assert [c.description for c in await bot.get_my_commands(language_code="ru")] == [
        "Найти постбэк"
    ]
    assert fake.commands(BotCommandScopeChat(TEAM["id"]).to_dict()) == [
        {"command": "setkey", "description": "Set the API key"}
    ]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("PostBack", "Upper case is not allowed")])
    await bot.delete_my_commands(language_code="ru")
    assert await bot.get_my_commands(language_code="ru") == ()


# --- A real PTB Application


async def _ping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("<b>pong</b>", parse_mode="HTML")


@contextlib.asynccontextmanager
async def running_bot(fake: FakeBotAPI, *, rate_limited: bool = False) -> AsyncIterator[None]:
    builder = ApplicationBuilder().token(fake.token).base_url(fake.base_url)
    if rate_limited:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=2))
    app: Application = builder.build()  # type: ignore[type-arg]
    app.add_handler(CommandHandler("ping", _ping))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield
        finally:
            await app.updater.stop()
            await app.stop()


async def test_a_real_application_answers_commands(fake: FakeBotAPI) -> None:
    async with running_bot(fake):
        fake.send_message(private_chat(ALICE), ALICE, "/ping")
        [reply] = await fake.wait_for_messages(ALICE["id"])
        assert (reply.text, reply.raw_text) == ("pong", "<b>pong</b>")

        fake.send_message(TEAM, BOB, "/ping@OtherBot")
        asked = fake.send_message(TEAM, BOB, "/ping@KeitaroTestBot")
        [reply] = await fake.wait_for_messages(TEAM["id"])
        assert reply.text == "pong"
        # PTB handles updates in order, so /ping@OtherBot was already passed over.
        assert reply.reply_to_message_id == asked
        assert len(fake.messages(TEAM["id"])) == 1
        assert len(fake.messages(ALICE["id"])) == 1


async def test_rate_limiter_retries_after_flood_control(fake: FakeBotAPI) -> None:
    async with running_bot(fake, rate_limited=True):
        fake.send_message(private_chat(ALICE), ALICE, "/ping")
        fake.send_message(private_chat(ALICE), ALICE, "/ping")
        fake.flood_limit(ALICE["id"], 1, retry_after=1)
        replies = await fake.wait_for_messages(ALICE["id"], count=2, timeout=5)
    assert [r.text for r in replies] == ["pong", "pong"]
    sends = [call for call in fake.calls if call.method == "sendMessage"]
    assert len(sends) == 3  # one was answered 429 and retried


async def test_say_talks_to_a_running_bot(
    fake: FakeBotAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_bot(fake):
        code = await asyncio.to_thread(
            say.main, ["--port", str(fake.port), "--user-id", "2001", "/ping"]
        )
    assert code == 0
    assert capsys.readouterr().out.strip() == "pong"


async def test_control_endpoints(fake: FakeBotAPI, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("postback", "Find a postback")])
    base = f"http://127.0.0.1:{fake.port}"
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{base}/_control/message",
            json={"chat_id": -5003, "user_id": 7, "text": "/ping", "chat_type": "group"},
        )
        asked = (await response.json())["message_id"]
        [update] = await bot.get_updates(timeout=0)
        assert update.message is not None
        await update.message.reply_text("pong")
        response = await http.get(f"{base}/_control/sent?chat_id=-5003&after={asked}")
        assert [m["text"] for m in (await response.json())["messages"]] == ["pong"]
        response = await http.get(f"{base}/_control/commands")
        assert (await response.json()) == [
            {
                "scope": {"type": "default"},
                "language_code": "",
                "commands": [{"command": "postback", "description": "Find a postback"}],
            }
        ]


def test_say_reports_an_unreachable_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert say.main(["--port", "1", "--timeout", "0", "hi"]) == 2
    assert "can't reach" in capsys.readouterr().err
