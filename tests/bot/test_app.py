"""The Application in-process: a failing handler is logged and the user is told."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from pydantic import SecretStr
from telegram.ext import Application

from bot.app import build_application
from bot.config import Settings
from bot.services import services_in
from tests.fakes.bot_api import FakeBotAPI, private_chat, user


class BrokenStore:
    """A store whose database went away."""

    async def get(self, chat_id: int) -> None:
        raise OSError("disk I/O error")

    async def close(self) -> None:
        pass


@pytest_asyncio.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[FakeBotAPI, Application]]:
    async with FakeBotAPI() as tg:
        settings = Settings(
            telegram_bot_token=SecretStr(tg.token),
            telegram_api_base_url=tg.base_url,
            database_url=f"sqlite:///{tmp_path}/bot.sqlite3",
        )
        app = build_application(settings)
        async with app:
            assert app.post_init is not None
            await app.post_init(app)
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            yield tg, app
            await app.updater.stop()
            await app.stop()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)


async def test_an_unexpected_error_is_logged_without_secrets_and_the_user_is_told(
    running: tuple[FakeBotAPI, Application], caplog: pytest.LogCaptureFixture
):
    tg, app = running
    real_store = services_in(app.bot_data).store
    services_in(app.bot_data).store = BrokenStore()  # type: ignore[assignment]
    try:
        person = user(77, "Olga", language_code="ru")
        with caplog.at_level(logging.ERROR):
            tg.send_message(private_chat(person), person, "/postback 42")
            [reply] = await tg.wait_for_messages(77)
        assert "что-то пошло не так" in reply.text
        [record] = [r for r in caplog.records if r.name == "bot.handlers.errors"]
        assert "chat 77" in record.getMessage()
        assert record.exc_info and isinstance(record.exc_info[1], OSError)
        assert tg.token not in caplog.text

        # The bot keeps serving: the next update is handled normally.
        tg.send_message(private_chat(person), person, "/help")
        [help_reply] = await tg.wait_for_messages(77)
        assert "/postback" in help_reply.text
    finally:
        services_in(app.bot_data).store = real_store


async def test_application_defaults_are_html_without_link_previews(
    running: tuple[FakeBotAPI, Application],
):
    tg, _ = running
    person = user(78, "Ivan")
    tg.send_message(private_chat(person), person, "/help")
    [reply] = await tg.wait_for_messages(78)
    assert reply.parse_mode == "HTML"
    assert reply.link_preview_options == {"is_disabled": True}
