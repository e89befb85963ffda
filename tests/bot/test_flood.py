"""A burst of 30 lookups in one group: queued under the per-group flood limit, every one
answered, and private chats are not slowed down meanwhile.

The real Application and rate limiter run in-process against the fake Bot API and tracker.
Telegram's limit is 20 messages a minute per group; here the same limiter runs ten times faster
(20 per 6 s) so the test takes seconds, not a minute.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from pydantic import SecretStr
from telegram.ext import AIORateLimiter, Application

from bot.app import build_application
from bot.config import Settings
from tests.e2e.harness import API_KEY
from tests.fakes.bot_api import FakeBotAPI, private_chat, supergroup, user
from tests.fakes.tracker import FakeTracker, demo_campaigns

GROUP_RATE, GROUP_PERIOD = 20, 6.0


@pytest_asyncio.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[FakeBotAPI, FakeTracker, Application]]:
    async with FakeBotAPI() as tg, FakeTracker(api_key=API_KEY, campaigns=demo_campaigns()) as tr:
        settings = Settings(
            telegram_bot_token=SecretStr(tg.token),
            telegram_api_base_url=tg.base_url,
            database_url=f"sqlite:///{tmp_path}/bot.sqlite3",
            keitaro_allow_private_hosts=True,
        )
        limiter = AIORateLimiter(
            group_max_rate=GROUP_RATE, group_time_period=GROUP_PERIOD, max_retries=5
        )
        app = build_application(settings, rate_limiter=limiter)
        async with app:
            assert app.post_init is not None and app.updater is not None
            await app.post_init(app)
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=1)
            yield tg, tr, app
            await app.updater.stop()
            await app.stop()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)


async def test_a_burst_of_30_lookups_in_a_group_is_queued_and_answered(
    running: tuple[FakeBotAPI, FakeTracker, Application],
):
    tg, tracker, _ = running
    team = supergroup(-1_000_000_003_030, "Burst")
    admin, alice = user(3030, "Ada"), user(3031, "Alice")
    tg.register_chat(team)
    tg.set_member(team["id"], admin, "administrator")
    tg.send_message(team, admin, f"/connect {tracker.url} {API_KEY}")
    await tg.wait_for_messages(team["id"])
    tg.send_message(private_chat(alice), alice, f"/connect {tracker.url} {API_KEY}")
    await tg.wait_for_messages(alice["id"])

    started = time.monotonic()
    asked = {tg.send_message(team, admin, f"/postback {42 + i % 3}") for i in range(30)}
    await asyncio.sleep(0.5)
    tg.send_message(private_chat(alice), alice, "/postback 42")
    [private] = await tg.wait_for_messages(alice["id"], timeout=5)
    private_after = time.monotonic() - started
    replies = await tg.wait_for_messages(team["id"], count=30, timeout=GROUP_PERIOD * 3)
    group_after = time.monotonic() - started

    assert {r.reply_to_message_id for r in replies} == asked  # none dropped, none twice
    assert all(r.text.startswith("Postback #4") for r in replies)
    assert private.text.startswith("Postback #42")
    assert private_after < 1.5  # the private chat did not wait behind the group's queue
    # 20 fit the bucket at once; the other 10 leak out at 20 per GROUP_PERIOD seconds.
    assert group_after > GROUP_PERIOD * 10 / GROUP_RATE * 0.8
