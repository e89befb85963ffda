"""The store does not lose data: many chats at once on both backends, and a writer SIGKILLed
in the middle of its writes."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.crypto import CredentialCipher
from bot.storage import CredentialStore, open_store
from tests.bot import test_storage
from tests.bot.test_storage import StoreFactory, credentials
from tests.pg import fresh_schema
from tests.store_writer import api_key

make_store = test_storage.make_store  # the fixture: every store test runs on both backends

ROOT = Path(__file__).resolve().parents[2]
CHATS = 200
OPS_PER_CHAT = 6
CONNECTIONS = 4  # store instances over one database, as several bot processes would be
KILLS = 5


async def test_many_chats_connecting_and_disconnecting_at_once_keep_the_store_consistent(
    make_store: StoreFactory,
) -> None:
    cipher = CredentialCipher([Fernet.generate_key()])
    stores = [make_store(cipher) for _ in range(CONNECTIONS)]
    for store in stores:
        await store.open()
    expected: dict[int, str | None] = {}

    async def chat(chat_id: int) -> None:
        # One chat's commands arrive one after another; all chats at once, on any connection.
        rng = random.Random(chat_id)
        for version in range(OPS_PER_CHAT):
            store = rng.choice(stores)
            if rng.random() < 0.4:
                had = expected.get(chat_id) is not None
                assert await store.delete(chat_id) is had, chat_id
                expected[chat_id] = None
            else:
                key = f"key-{chat_id}-v{version}"
                await store.put(credentials(chat_id=chat_id, api_key=SecretStr(key)))
                expected[chat_id] = key

    await asyncio.gather(*(chat(-1_001_000_000_000 - n) for n in range(CHATS)))

    reopened = make_store(cipher)
    await reopened.open()
    connected = {chat_id: key for chat_id, key in expected.items() if key is not None}
    assert 0 < len(connected) < CHATS  # both outcomes happened
    assert await reopened.count() == len(connected)
    for chat_id, key in expected.items():
        got = await reopened.get(chat_id)
        if key is None:
            assert got is None, chat_id
        else:
            assert got is not None and got.api_key.get_secret_value() == key, chat_id


async def write_until_killed(
    database_url: str, key: bytes, first: int, seconds: float
) -> list[int]:
    """Run tests/store_writer.py, SIGKILL it after ``seconds`` of writing; the ids it printed."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_PROXY")}
    env |= {"PYTHONPATH": str(ROOT), "CREDENTIALS_ENCRYPTION_KEY": key.decode()}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.store_writer",
        database_url,
        str(first),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    stdout = process.stdout
    assert stdout is not None
    output = bytearray()

    async def drain() -> None:  # keep the pipe empty, so the writer never blocks on it
        while chunk := await stdout.read(65536):
            output.extend(chunk)

    try:
        output.extend(await asyncio.wait_for(stdout.readline(), 20))  # the store is open
        drained = asyncio.ensure_future(drain())
        await asyncio.sleep(seconds)
    finally:
        process.kill()
        await process.wait()
    await drained
    assert process.returncode == -signal.SIGKILL
    *lines, _torn = output.decode().split("\n")  # a torn last line is no promise
    return [int(line) for line in lines]


async def assert_all_present(store: CredentialStore, printed: list[int]) -> None:
    await store.open()
    try:
        for chat_id in printed:
            got = await store.get(chat_id)
            assert got is not None, chat_id
            assert got.api_key.get_secret_value() == api_key(chat_id)
        assert await store.count() >= len(printed)  # earlier runs' rows are there too
    finally:
        await store.close()


async def test_sigkill_mid_write_loses_no_committed_credential_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    url = f"sqlite:///{database}"
    key = Fernet.generate_key()
    printed: list[int] = []
    for kill in range(KILLS):
        written = await write_until_killed(url, key, first=kill * 1_000_000, seconds=0.3)
        assert len(written) > 50  # it really was writing when it was killed
        assert Path(f"{database}-wal").exists()  # no clean close, no checkpoint

        with sqlite3.connect(database) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        await assert_all_present(open_store(url, CredentialCipher([key])), written)
        printed += written

    await assert_all_present(open_store(url, CredentialCipher([key])), printed)


@pytest.mark.postgres
async def test_sigkill_mid_write_loses_no_committed_credential_postgres() -> None:
    key = Fernet.generate_key()
    printed: list[int] = []
    async with fresh_schema() as dsn:
        for kill in range(2):
            written = await write_until_killed(dsn, key, first=kill * 1_000_000, seconds=0.3)
            assert len(written) > 50
            await assert_all_present(open_store(dsn, CredentialCipher([key])), written)
            printed += written

        await assert_all_present(open_store(dsn, CredentialCipher([key])), printed)
