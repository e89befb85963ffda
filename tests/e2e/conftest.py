from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.harness import API_KEY, BotProcess
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.tracker import FakeTracker, demo_campaigns

# Short enough that a dead tracker test is quick, long enough for a loaded CI machine.
TRACKER_TIMEOUT = "3"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tg() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as api:
        yield api


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tracker() -> AsyncIterator[FakeTracker]:
    async with FakeTracker(api_key=API_KEY, campaigns=demo_campaigns()) as fake:
        yield fake


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    tg: FakeBotAPI, tracker: FakeTracker, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    process = BotProcess(
        tg,
        tmp_path_factory.mktemp("bot"),
        {"KEITARO_ALLOW_PRIVATE_HOSTS": "true", "KEITARO_TIMEOUT": TRACKER_TIMEOUT},
    )
    await process.start()
    yield process
    await process.stop()
    assert "Traceback" not in process.log(), process.log()
    assert_no_secrets(process, tg)


def assert_no_secrets(process: BotProcess, tg: FakeBotAPI) -> None:
    """After a whole session at DEBUG: the key and the token are in no log line, no message
    the bot sent, and no byte of the database, its WAL or shared-memory file."""
    log, stored = process.log(), database_bytes(process)
    sent = [
        str(call.params)
        for call in tg.calls
        if call.method.lower() in ("sendmessage", "editmessagetext", "answercallbackquery")
    ]
    assert process.env["LOG_LEVEL"] == "DEBUG" and log  # the session really ran, at DEBUG
    for secret in (API_KEY, tg.token):
        assert secret not in log
        assert secret.encode() not in stored
        assert not any(secret in text for text in sent)


@pytest.fixture(autouse=True)
def _clean_tracker(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "tracker" in request.fixturenames:
        fake: FakeTracker = request.getfixturevalue("tracker")
        fake.reset_faults()
        fake.delay = 0


_ids = itertools.count(1)


@pytest.fixture
def uid() -> int:
    """A fresh positive id per test, so tests sharing one bot never share a chat."""
    return 5000 + next(_ids)


def database_bytes(process: BotProcess) -> bytes:
    """The SQLite database with its WAL and shared-memory files, byte for byte."""
    files = [Path(f"{process.database}{suffix}") for suffix in ("", "-wal", "-shm")]
    return b"".join(f.read_bytes() for f in files if f.exists())
