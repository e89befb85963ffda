"""The encryption key as an operator meets it: lost at start-up, and rotated under a live bot."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import API_KEY, BotProcess, ask
from tests.fakes.bot_api import FakeBotAPI, private_chat, user
from tests.fakes.tracker import FakeTracker

pytestmark = pytest.mark.asyncio(loop_scope="module")

MASKED_KEY = "e2eK…9e8b"


def bot_process(tg: FakeBotAPI, workdir: Path) -> BotProcess:
    return BotProcess(tg, workdir, {"KEITARO_ALLOW_PRIVATE_HOSTS": "true"})


async def key_command(process: BotProcess, command: str) -> tuple[int, str]:
    """`python -m bot <command>` with the bot's own settings, as the operator runs it."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        command,
        cwd=process.workdir,
        env=process.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(child.communicate(), 30)
    assert child.returncode is not None
    return child.returncode, output.decode()


async def connect_and_check(tg: FakeBotAPI, tracker: FakeTracker, uid: int) -> dict:
    person = user(uid, "Alice")
    chat = private_chat(person)
    [connected] = await ask(tg, chat, person, f"/connect {tracker.url} {API_KEY}")
    assert "Connected this chat" in connected.text
    [status] = await ask(tg, chat, person, "/status")
    assert tracker.url in status.text and MASKED_KEY in status.text
    return chat


async def still_connected(tg: FakeBotAPI, tracker: FakeTracker, chat: dict) -> None:
    person = user(chat["id"], "Alice")
    [status] = await ask(tg, chat, person, "/status")
    assert tracker.url in status.text and MASKED_KEY in status.text, status.text
    [reply] = await ask(tg, chat, person, "/postback 42")
    assert "Postback #42" in reply.text, reply.text


async def test_a_missing_key_file_with_connected_chats_stops_the_bot_and_generates_no_key(
    tg: FakeBotAPI, tracker: FakeTracker, tmp_path: Path, uid: int
):
    first = bot_process(tg, tmp_path)
    await first.start()
    chat = await connect_and_check(tg, tracker, uid)
    await first.stop()
    key_file = Path(f"{first.database}.key")
    backup = key_file.rename(tmp_path / "backup.key")  # lost, or never copied to a new server
    before = first.database.read_bytes()

    for _ in range(2):  # the next start says the same thing, instead of using a stray new key
        second = BotProcess(tg, tmp_path, {"LOG_LEVEL": "INFO"})  # the operator's default
        with pytest.raises(RuntimeError, match="exited at start-up"):
            await second.start(timeout=10)
        assert await second.stop() == 1
        assert f"CRITICAL bot: the bot stopped: the encryption key file {key_file} is missing" in (
            second.log()
        )
        assert "No new key was generated" in second.log()
        assert not key_file.exists()
        assert first.database.read_bytes() == before
        assert "Traceback" not in second.log()  # one clear line, not a crash dump

    backup.rename(key_file)
    restored = bot_process(tg, tmp_path)
    await restored.start()
    try:
        await still_connected(tg, tracker, chat)
    finally:
        await restored.stop()


async def test_rotating_the_key_file_while_the_bot_runs(
    tg: FakeBotAPI, tracker: FakeTracker, tmp_path: Path, uid: int
):
    first = bot_process(tg, tmp_path)
    await first.start()
    chat = await connect_and_check(tg, tracker, uid)
    key_file = Path(f"{first.database}.key")
    [old] = key_file.read_bytes().split()

    code, output = await key_command(first, "add-key")
    assert code == 0, output
    new, kept = key_file.read_bytes().split()
    assert kept == old
    await first.stop()  # (a) restart, so that the bot reads both keys
    second = bot_process(tg, tmp_path)
    await second.start()
    try:
        code, output = await key_command(second, "rotate-key")  # (b) under the running bot
        assert code == 0, output
        assert "Re-encrypted 1 stored credential(s) with the first of 2 key(s)" in output
        await still_connected(tg, tracker, chat)
    finally:
        await second.stop()

    key_file.write_bytes(new + b"\n")  # (c) drop the old key
    third = bot_process(tg, tmp_path)
    await third.start()
    try:
        await still_connected(tg, tracker, chat)
    finally:
        await third.stop()
    for process in (first, second, third):
        assert old.decode() not in process.log() and new.decode() not in process.log()
