"""A team member in a private chat: connect, look up, fail in every way, disconnect.

The real bot runs as `python -m bot` against the local Bot API and tracker fakes, over HTTP.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.conftest import TRACKER_TIMEOUT, database_bytes
from tests.e2e.harness import API_KEY, BotProcess, ask
from tests.fakes.bot_api import FakeBotAPI, private_chat, user
from tests.fakes.tracker import (
    ADMIN_PAGE_OK,
    BAD_GATEWAY_HTML,
    CLOUDFLARE_1010,
    FORBIDDEN,
    NOT_FOUND_TEXT,
    SERVER_ERROR,
    UNAUTHORIZED,
    FakeTracker,
    make_campaign,
    make_postback,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


def alice(uid: int, lang: str = "en") -> tuple[dict, dict]:
    person = user(uid, "Alice", "alice", lang)
    return private_chat(person), person


async def connect(tg: FakeBotAPI, tracker: FakeTracker, uid: int, lang: str = "en") -> dict:
    chat, person = alice(uid, lang)
    [reply] = await ask(tg, chat, person, f"/connect {tracker.url} {API_KEY}")
    assert "Connected" in reply.text or "подключён" in reply.text, reply.text
    return chat


async def test_help_names_every_command_with_an_example(bot: BotProcess, tg: FakeBotAPI, uid: int):
    chat, person = alice(uid)
    for command in ("/start", "/help"):
        [reply] = await ask(tg, chat, person, command)
        for name in ("/postback", "/connect", "/disconnect", "/status", "/help"):
            assert name in reply.text
        assert "/postback 42" in reply.text


async def test_command_menu_is_registered_in_both_languages(bot: BotProcess, tg: FakeBotAPI):
    english = {c["command"]: c["description"] for c in tg.commands()}
    russian = {c["command"]: c["description"] for c in tg.commands(language_code="ru")}
    menu = {"postback", "connect", "status", "disconnect", "cancel", "language", "help"}
    assert set(english) == set(russian) == menu
    assert english["postback"] != russian["postback"]


async def test_russian_user_gets_russian_replies(bot: BotProcess, tg: FakeBotAPI, uid: int):
    chat, person = alice(uid, "ru")
    [reply] = await ask(tg, chat, person, "/postback 42")
    assert "не подключён" in reply.text


async def test_unconnected_chat_is_pointed_to_connect_and_tracker_is_not_called(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    before = len(tracker.requests)
    chat, person = alice(uid)
    [reply] = await ask(tg, chat, person, "/postback 42")
    assert "/connect" in reply.text
    assert len(tracker.requests) == before


async def test_connect_checks_the_key_saves_it_masked_and_deletes_the_message(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, person = alice(uid)
    asked = tg.send_message(chat, person, f"/connect {tracker.url}/admin_api/v1/ {API_KEY}")
    [reply] = await tg.wait_for_messages(chat["id"])
    assert f"Connected this chat to {tracker.url}" in reply.text
    assert "e2eK…9e8b" in reply.text
    assert "3 campaigns" in reply.text
    assert API_KEY not in reply.raw_text
    assert (chat["id"], asked) in tg.deleted
    assert "deleted your message" in reply.text
    # A quote of the deleted message would fail in Telegram: the reply must not quote it.
    assert reply.reply_to_message_id is None

    [status] = await ask(tg, chat, person, "/status")
    assert tracker.url in status.text and "e2eK…9e8b" in status.text
    assert "Alice (@alice)" in status.text and "UTC" in status.text


async def test_wrong_key_is_not_saved_and_the_tracker_message_is_shown(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, person = alice(uid)
    asked = tg.send_message(chat, person, f"/connect {tracker.url} wrong-key-0123456789")
    [reply] = await tg.wait_for_messages(chat["id"])
    assert "HTTP 401: Unauthorized" in reply.text and "Nothing was saved" in reply.text
    assert (chat["id"], asked) in tg.deleted  # the key was exposed either way
    [status] = await ask(tg, chat, person, "/status")
    assert "not connected" in status.text


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("/connect", "Usage: /connect"),
        ("/connect tracker.example.com", "Usage: /connect"),
        ("/connect a b c", "Usage: /connect"),
        ("/connect ftp://tracker.example.com key-0123456789", "only http and https"),
        ("/connect https://user:pw@tracker.example.com key-0123456789", "user:password"),
        ("/connect 9f2c4e1a7b3d5f60a1b2 0718aa33bb", "not a web address"),
        ("/connect https://tracker.example.com ключ-0123456789", "cannot be right"),
    ],
)
async def test_malformed_connect_gets_usage_or_reason(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int, text: str, answer: str
):
    before = len(tracker.requests)
    chat, person = alice(uid)
    [reply] = await ask(tg, chat, person, text)
    assert answer in reply.text
    assert len(tracker.requests) == before


async def test_swapped_connect_arguments_still_connect_and_the_key_is_not_logged(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat, person = alice(uid)
    [reply] = await ask(tg, chat, person, f"/connect {API_KEY} {tracker.url}")
    assert f"Connected this chat to {tracker.url}" in reply.text
    assert API_KEY not in bot.log()


async def test_postback_details_and_index_makes_repeat_lookups_one_small_request(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat = await connect(tg, tracker, uid)
    person = user(uid, "Alice", "alice")
    [reply] = await ask(tg, chat, person, "/postback 42")
    assert reply.text.splitlines()[:5] == [
        "Postback #42 · Main campaign",
        "Campaign: #1, active",
        "Method: GET",
        "Statuses: lead, sale",
        f"Tracker: {tracker.url}",
    ]
    # The URL arrives whole, macros intact, in a monospace block that copies with one tap.
    url = "https://aff.example/pb?click={external_id}&status={status}&sum={revenue}&sub={sub_id_1}"
    assert reply.text.endswith(url)
    assert any(e["type"] == "pre" for e in reply.entities)

    before = len(tracker.requests)
    await ask(tg, chat, person, "/postback 42")
    assert [r.path for r in tracker.requests[before:]] == ["/admin_api/v1/campaigns/1"]


@pytest.mark.parametrize(
    "argument", ["", "42abc", "-1", "4_2", "４２", "42 43", "0", "99999999999"]
)
async def test_malformed_id_gets_usage_and_no_tracker_call(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int, argument: str
):
    chat = await connect(tg, tracker, uid)
    before = len(tracker.requests)
    [reply] = await ask(tg, chat, user(uid, "Alice"), f"/postback {argument}".strip())
    assert "Usage: /postback <id>" in reply.text
    assert len(tracker.requests) == before


async def test_whitespace_around_the_id_is_fine(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat = await connect(tg, tracker, uid)
    [reply] = await ask(tg, chat, user(uid, "Alice"), "/postback   43  ")
    assert reply.text.startswith("Postback #43") and "Method: POST" in reply.text


async def test_unknown_id_names_the_tracker(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat = await connect(tg, tracker, uid)
    [reply] = await ask(tg, chat, user(uid, "Alice"), "/postback 777")
    assert reply.text == f"Postback 777 not found on {tracker.url}."


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (UNAUTHORIZED, "HTTP 401: Unauthorized"),
        (FORBIDDEN, "HTTP 403: You have no permission to access this page"),
        (SERVER_ERROR, "HTTP 500: Internal server error"),
        (CLOUDFLARE_1010, "Cloudflare"),
        (BAD_GATEWAY_HTML, "HTTP 502 with an error page: the tracker may be down"),
        (ADMIN_PAGE_OK, "HTTP 200 with a web page"),
    ],
)
async def test_tracker_errors_show_the_tracker_message_and_status(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int, fault, expected: str
):
    chat = await connect(tg, tracker, uid)
    tracker.fail_with(fault)
    [reply] = await ask(tg, chat, user(uid, "Alice"), "/postback 42")
    assert expected in reply.text, reply.text
    assert "<html" not in reply.text.lower() and "<!doctype" not in reply.text.lower()


async def test_text_404_from_a_deleted_campaign_refreshes_the_index(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat = await connect(tg, tracker, uid)
    person = user(uid, "Alice")
    await ask(tg, chat, person, "/postback 44")
    tracker.fail_with(NOT_FOUND_TEXT, path="/campaigns/2", times=1)
    [reply] = await ask(tg, chat, person, "/postback 44")
    assert reply.text.startswith("Postback #44")


async def test_html_in_tracker_fields_is_shown_literally(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    tricky = "<b>Promo</b> & <script>alert(1)</script> &amp;"
    url = "https://aff.example/pb?a=<x>&b={status}&c=&amp;"
    tracker.add_campaign(make_campaign(90, tricky, postbacks=[make_postback(900, 90, url=url)]))
    chat = await connect(tg, tracker, uid)
    [reply] = await ask(tg, chat, user(uid, "Alice"), "/postback 900")
    assert reply.text.startswith(f"Postback #900 · {tricky}\nCampaign: #90, active")
    assert reply.text.endswith(url)


async def test_a_url_longer_than_a_message_arrives_whole_in_parts(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    url = "https://aff.example/pb?" + "&".join(f"p{i}={{sub_id_{i % 30}}}" for i in range(700))
    assert len(url) > 9000
    tracker.add_campaign(make_campaign(91, "Long", postbacks=[make_postback(910, 91, url=url)]))
    chat = await connect(tg, tracker, uid)
    tg.send_message(chat, user(uid, "Alice"), "/postback 910")
    [head] = await tg.wait_for_messages(chat["id"])
    assert head.text.startswith("Postback #910") and "Tracker:" in head.text
    [first] = await tg.wait_for_messages(chat["id"])
    total = int(first.text.split("\n", 1)[0].removeprefix("URL, part 1 of ").rstrip(":"))
    parts = [first, *await tg.wait_for_messages(chat["id"], count=total - 1)]
    received = ""
    for number, part in enumerate(parts, 1):
        label, body = part.text.split("\n", 1)
        assert label == f"URL, part {number} of {total}:"
        assert len(part.text) <= 4096
        assert any(e["type"] == "pre" for e in part.entities)
        assert number == total or body.endswith("&")  # every parameter arrives whole
        received += body
    assert received == url


async def test_a_dead_tracker_answers_within_the_timeout_and_other_chats_are_served(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    slow = FakeTracker(
        api_key=API_KEY, campaigns=[make_campaign(1, "Slow", postbacks=[make_postback(42, 1)])]
    )
    await slow.start()
    try:
        slow_chat, slow_person = alice(uid + 100_000)
        await ask(tg, slow_chat, slow_person, f"/connect {slow.url} {API_KEY}")
        fast_chat = await connect(tg, tracker, uid)
        slow.delay = 60
        started = time.monotonic()
        tg.send_message(slow_chat, slow_person, "/postback 42")
        await asyncio.sleep(0.3)
        [fast] = await ask(tg, fast_chat, user(uid, "Alice"), "/postback 42")
        fast_after = time.monotonic() - started
        assert fast.text.startswith("Postback #42")
        [timed_out] = await tg.wait_for_messages(slow_chat["id"], timeout=15)
        slow_after = time.monotonic() - started
        assert f"did not answer within {TRACKER_TIMEOUT} s" in timed_out.text
        assert fast_after < float(TRACKER_TIMEOUT) <= slow_after < float(TRACKER_TIMEOUT) + 5
    finally:
        await slow.close()


async def test_a_tracker_that_is_down_gets_a_clear_answer(
    bot: BotProcess, tg: FakeBotAPI, uid: int
):
    campaign = make_campaign(1, "Gone", postbacks=[make_postback(42, 1)])
    gone = FakeTracker(api_key=API_KEY, campaigns=[campaign])
    await gone.start()
    chat, person = alice(uid)
    await ask(tg, chat, person, f"/connect {gone.url} {API_KEY}")
    await gone.close()
    [reply] = await ask(tg, chat, person, "/postback 42")
    assert "Could not reach the tracker: connection refused" in reply.text


async def test_disconnect_forgets_the_chat(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat = await connect(tg, tracker, uid)
    person = user(uid, "Alice")
    [reply] = await ask(tg, chat, person, "/disconnect")
    assert f"Disconnected from {tracker.url}" in reply.text
    [again] = await ask(tg, chat, person, "/disconnect")
    assert "nothing to forget" in again.text
    [lookup] = await ask(tg, chat, person, "/postback 42")
    assert "/connect" in lookup.text


async def test_credentials_survive_a_restart_and_no_secret_leaks(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    chat = await connect(tg, tracker, uid)
    await bot.stop()
    await bot.start()
    [reply] = await ask(tg, chat, user(uid, "Alice"), "/postback 42")
    assert reply.text.startswith("Postback #42")

    # The key (and the bot token) appear in no log line, no reply and no database byte.
    log = bot.log()
    for secret in (API_KEY, tg.token):
        assert secret not in log
        assert secret.encode() not in database_bytes(bot)
    sent = [
        c.params.get("text", "")
        for c in tg.calls
        if c.method.lower() in ("sendmessage", "editmessagetext")
    ]
    assert sent and not any(API_KEY in str(text) for text in sent)
    assert "GET http://127.0.0.1" in log  # DEBUG logging was on: the check is not vacuous


async def test_a_connect_with_only_a_key_is_deleted_too(bot: BotProcess, tg: FakeBotAPI, uid: int):
    chat, person = alice(uid)
    asked = tg.send_message(chat, person, f"/connect {API_KEY}")
    [reply] = await tg.wait_for_messages(chat["id"])
    assert "Usage: /connect" in reply.text
    assert (chat["id"], asked) in tg.deleted


@pytest.mark.parametrize("text", ["hello", "/unknown", "postback 42"])
async def test_a_private_message_the_bot_cannot_answer_points_to_help(
    bot: BotProcess, tg: FakeBotAPI, uid: int, text: str
):
    chat, person = alice(uid)
    [reply] = await ask(tg, chat, person, text)
    assert reply.text == "I only answer commands; /help lists them."
