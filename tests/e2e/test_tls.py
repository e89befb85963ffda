"""A tracker with a self-signed certificate: refused unless the operator allows it and an admin
asks for it (`/connect <url> <key> insecure`); then flagged in /status, and kept across restarts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.e2e.conftest import TRACKER_TIMEOUT, assert_no_secrets
from tests.e2e.harness import API_KEY, BotProcess, ask
from tests.fakes.bot_api import FakeBotAPI, private_chat, user
from tests.fakes.tls import self_signed_server_context
from tests.fakes.tracker import FakeTracker, demo_campaigns

pytestmark = pytest.mark.asyncio(loop_scope="module")

CERTIFICATE_FAILED = "TLS certificate verification failed: self-signed certificate"
HINT = "/connect <tracker-url> <api-key> insecure"
WARNING_EN = "⚠️ The tracker's TLS certificate is not checked"
WARNING_RU = "⚠️ TLS-сертификат трекера не проверяется"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def https_tracker() -> AsyncIterator[FakeTracker]:
    fake = FakeTracker(api_key=API_KEY, campaigns=demo_campaigns())
    await fake.start(ssl_context=self_signed_server_context())
    yield fake
    await fake.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tls_tg() -> AsyncIterator[FakeBotAPI]:
    """A Bot API of its own: two bots polling one would each get some of the updates."""
    async with FakeBotAPI() as api:
        yield api


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def trusting_bot(
    tls_tg: FakeBotAPI, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    process = BotProcess(
        tls_tg,
        tmp_path_factory.mktemp("tls"),
        {
            "KEITARO_ALLOW_PRIVATE_HOSTS": "true",
            "KEITARO_ALLOW_UNVERIFIED_TLS": "true",
            "KEITARO_TIMEOUT": TRACKER_TIMEOUT,
        },
    )
    await process.start()
    yield process
    await process.stop()
    assert "Traceback" not in process.log(), process.log()
    assert_no_secrets(process, tls_tg)


async def test_insecure_is_refused_unless_the_operator_allows_it(
    bot: BotProcess, tg: FakeBotAPI, https_tracker: FakeTracker, uid: int
):
    # `bot` runs without KEITARO_ALLOW_UNVERIFIED_TLS.
    person = user(uid, "Eve")
    chat = private_chat(person)
    before = len(https_tracker.requests)

    [refused] = await ask(tg, chat, person, f"/connect {https_tracker.url} {API_KEY} insecure")
    assert "KEITARO_ALLOW_UNVERIFIED_TLS" in refused.text
    assert "Nothing was saved" in refused.text
    [failed] = await ask(tg, chat, person, f"/connect {https_tracker.url} {API_KEY}")
    assert CERTIFICATE_FAILED in failed.text
    assert "insecure" not in failed.text  # no hint at a word that would be refused
    [status] = await ask(tg, chat, person, "/status")
    assert status.text.startswith("This chat is not connected")
    assert len(https_tracker.requests) == before  # the key never went over the connection


async def test_a_certificate_failure_suggests_insecure_when_it_is_allowed(
    trusting_bot: BotProcess, tls_tg: FakeBotAPI, https_tracker: FakeTracker, uid: int
):
    person = user(uid, "Ann")
    [failed] = await ask(
        tls_tg, private_chat(person), person, f"/connect {https_tracker.url} {API_KEY}"
    )
    assert CERTIFICATE_FAILED in failed.text
    assert HINT in failed.text
    assert "Nothing was saved" in failed.text


async def test_an_insecure_connection_works_is_flagged_and_survives_a_restart(
    trusting_bot: BotProcess, tls_tg: FakeBotAPI, https_tracker: FakeTracker, uid: int
):
    alice, olga = user(uid, "Alice"), user(uid + 1, "Olga", language_code="ru")
    for person in (alice, olga):
        [connected] = await ask(
            tls_tg, private_chat(person), person, f"/connect {https_tracker.url} {API_KEY} INSECURE"
        )
        assert https_tracker.url.removeprefix("https://") in connected.text
    [status] = await ask(tls_tg, private_chat(alice), alice, "/status")
    assert WARNING_EN in status.text
    [status_ru] = await ask(tls_tg, private_chat(olga), olga, "/status")
    assert WARNING_RU in status_ru.text
    [found] = await ask(tls_tg, private_chat(alice), alice, "/postback 42")
    assert found.text.startswith("Postback #42")

    await trusting_bot.stop()
    await trusting_bot.start()

    [status] = await ask(tls_tg, private_chat(alice), alice, "/status")
    assert WARNING_EN in status.text
    [found] = await ask(tls_tg, private_chat(alice), alice, "/postback 43")
    assert found.text.startswith("Postback #43")


async def test_a_verified_tracker_shows_no_warning(
    trusting_bot: BotProcess, tls_tg: FakeBotAPI, tracker: FakeTracker, uid: int
):
    person = user(uid, "Bob")
    await ask(tls_tg, private_chat(person), person, f"/connect {tracker.url} {API_KEY}")
    [status] = await ask(tls_tg, private_chat(person), person, "/status")
    assert status.text.startswith("Tracker: ")
    assert "TLS" not in status.text


async def test_a_group_set_up_in_private_can_trust_a_self_signed_tracker(
    trusting_bot: BotProcess, tls_tg: FakeBotAPI, https_tracker: FakeTracker, uid: int
):
    from tests.e2e.test_group_setup import group_is_connected, setup_link, team

    chat, admin, member = team(tls_tg, uid)
    token = await setup_link(tls_tg, chat, admin)
    pm = private_chat(admin)
    await ask(tls_tg, pm, admin, f"/start {token}")
    [done] = await ask(tls_tg, pm, admin, f"{https_tracker.url} {API_KEY} insecure")
    assert "Connected the group" in done.text
    await tls_tg.wait_for_messages(chat["id"])  # the note in the group
    assert await group_is_connected(tls_tg, chat, member)
    [status] = await ask(tls_tg, chat, member, "/status")
    assert WARNING_EN in status.text
