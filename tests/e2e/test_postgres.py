"""The bot on a real PostgreSQL server: connect, restart, look up; no plaintext key stored."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from tests.e2e.harness import API_KEY, BotProcess, ask
from tests.fakes.bot_api import FakeBotAPI, supergroup, user
from tests.fakes.tracker import FakeTracker
from tests.pg import fresh_schema

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.postgres]


async def test_a_group_connection_survives_a_restart_on_postgres(
    tg: FakeBotAPI, tracker: FakeTracker, tmp_path: Path, uid: int
):
    async with fresh_schema() as dsn:
        env = {
            "DATABASE_URL": dsn,
            "ENCRYPTION_KEY_FILE": str(tmp_path / "bot.key"),
            "KEITARO_ALLOW_PRIVATE_HOSTS": "true",
        }
        chat = supergroup(-1_000_000_000_000 - uid, "Ops")
        admin = user(uid, "Ada")
        tg.register_chat(chat)
        tg.set_member(chat["id"], admin, "administrator")

        process = BotProcess(tg, tmp_path, env)
        await process.start()
        try:
            [reply] = await ask(tg, chat, admin, f"/connect {tracker.url} {API_KEY}")
            assert "Connected this chat" in reply.text
            await process.stop()
            await process.start()
            [lookup] = await ask(tg, chat, user(uid + 1, "Max"), "/postback 42")
            assert lookup.text.startswith("Postback #42")
        finally:
            await process.stop()

        connection = await asyncpg.connect(dsn)
        try:
            row = await connection.fetchrow(
                "SELECT * FROM chat_credentials WHERE chat_id = $1", chat["id"]
            )
        finally:
            await connection.close()
        assert row is not None and row["tracker_url"] == tracker.url
        assert API_KEY.encode() not in b"".join(
            v if isinstance(v, bytes) else str(v).encode() for v in row.values()
        )
        assert API_KEY not in process.log()
