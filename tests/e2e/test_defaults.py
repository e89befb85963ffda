"""The bot as an operator starts it with defaults: private trackers refused, key generated."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.harness import API_KEY, BotProcess, ask
from tests.fakes.bot_api import FakeBotAPI, private_chat, user
from tests.fakes.tracker import FakeTracker

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def strict_bot(
    tg: FakeBotAPI, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    process = BotProcess(tg, tmp_path_factory.mktemp("strict"), {})
    await process.start()
    yield process
    await process.stop()


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.1:{port}",
        "http://localhost:{port}",
        "http://10.1.2.3",
        "http://[::1]:{port}",
    ],
)
async def test_private_and_loopback_trackers_are_refused_by_default(
    strict_bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, uid: int, address: str
):
    before = len(tracker.requests)
    person = user(uid, "Eve")
    url = address.format(port=tracker.url.rsplit(":", 1)[1])
    [reply] = await ask(tg, private_chat(person), person, f"/connect {url} {API_KEY}")
    assert "I do not connect to that address" in reply.text and "Nothing was saved" in reply.text
    assert len(tracker.requests) == before


async def test_first_start_generates_a_private_key_and_says_so(strict_bot: BotProcess):
    key_file = Path(f"{strict_bot.database}.key")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert f"generated a new encryption key for stored API keys at {key_file}" in strict_bot.log()


async def test_a_missing_token_is_a_clear_error(tmp_path: Path, tg: FakeBotAPI):
    process = BotProcess(tg, tmp_path, {"TELEGRAM_BOT_TOKEN": ""})
    process.env.pop("TELEGRAM_BOT_TOKEN")
    with pytest.raises(RuntimeError, match="TELEGRAM_BOT_TOKEN"):
        await process.start(timeout=10)


async def test_a_wrong_encryption_key_stops_the_bot_without_touching_data(
    strict_bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, tmp_path: Path, uid: int
):
    first = BotProcess(tg, tmp_path, {"KEITARO_ALLOW_PRIVATE_HOSTS": "true"})
    await first.start()
    person = user(uid, "Eve")
    await ask(tg, private_chat(person), person, f"/connect {tracker.url} {API_KEY}")
    await first.stop()
    before = first.database.read_bytes()

    wrong = "x" * 43 + "="  # a well-formed Fernet key that is not the one in use
    second = BotProcess(tg, tmp_path, {"CREDENTIALS_ENCRYPTION_KEY": wrong})
    with pytest.raises(RuntimeError, match="cannot be decrypted"):
        await second.start(timeout=10)
    assert first.database.read_bytes() == before
