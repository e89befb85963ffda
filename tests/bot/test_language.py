"""The language each update is answered in: per update (a ContextVar), per chat (/language)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from telegram import Chat, Message, Update, User

from bot.config import Settings
from bot.crypto import CredentialCipher
from bot.handlers.common import lang_of
from bot.handlers.language import ChatLanguages, chat_languages, use_chat_language
from bot.i18n import current_language
from bot.services import Services, install
from bot.storage import CredentialStore, SQLiteCredentialStore
from keitaro_api import KeitaroClient


def update_in(chat_id: int, user_language: str | None) -> Update:
    person = User(id=abs(chat_id), first_name="U", is_bot=False, language_code=user_language)
    chat = Chat(id=chat_id, type=Chat.PRIVATE if chat_id > 0 else Chat.SUPERGROUP)
    message = Message(1, datetime.now(UTC), chat, from_user=person, text="/status")
    return Update(update_id=abs(chat_id), message=message)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CredentialStore]:
    store = SQLiteCredentialStore(
        tmp_path / "bot.sqlite3", CredentialCipher([Fernet.generate_key()])
    )
    await store.open()
    yield store
    await store.close()


@pytest.fixture
def context(store: CredentialStore) -> Any:
    """What the handlers use of PTB's CallbackContext: bot_data with the services in it."""
    bot_data: dict[object, object] = {}
    settings = Settings(telegram_bot_token=SecretStr("123:TEST"))
    install(bot_data, Services(settings=settings, store=store, client=KeitaroClient()))
    return SimpleNamespace(bot_data=bot_data)


async def test_concurrent_updates_never_see_each_others_language(
    store: CredentialStore, context: Any
) -> None:
    await store.set_language(-100_1, "ru")  # an English user in a group that chose Russian
    await store.set_language(-100_3, "en")  # a Russian user in a group that chose English
    all_set, read = asyncio.Event(), asyncio.Event()
    started = 0

    async def handle(update: Update) -> str:
        # As PTB runs every update (concurrent_updates): in a task of its own, the language
        # handler first, then the command, which waits on something (a tracker) meanwhile.
        nonlocal started
        await use_chat_language(update, context)
        started += 1
        if started == 4:
            all_set.set()
        await read.wait()  # every other update has set its language by now
        return lang_of(update)

    tasks = [
        asyncio.create_task(handle(update_in(chat, code)))
        for chat, code in ((-100_1, "en"), (2, "en-US"), (-100_3, "ru"), (4, "ru-RU"))
    ]
    await all_set.wait()
    read.set()

    assert await asyncio.gather(*tasks) == ["ru", "en", "en", "ru"]
    assert current_language.get() is None  # nothing leaked out of the updates' tasks


async def test_an_update_replaces_the_language_a_previous_one_left(context: Any) -> None:
    # Sequential processing runs updates in one task: each update sets its own, always.
    current_language.set("ru")
    update = update_in(5, "en")

    await use_chat_language(update, context)

    assert lang_of(update) == "en"


def test_without_the_language_handler_lang_of_is_the_users_language() -> None:
    assert current_language.get() is None
    assert lang_of(update_in(6, "ru")) == "ru"
    assert lang_of(update_in(7, "de")) == "en"
    assert lang_of(update_in(8, None)) == "en"


async def test_a_store_that_cannot_be_read_leaves_the_users_language(
    context: Any, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        async def languages(self) -> dict[int, str]:
            raise OSError("disk I/O error")

    context.bot_data["services"].store = Broken()
    update = update_in(9, "ru")

    await use_chat_language(update, context)

    assert lang_of(update) == "ru"
    assert "could not read the language of chat 9" in caplog.text


async def test_chat_languages_load_once_and_follow_changes(
    store: CredentialStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.set_language(1, "ru")
    await store.set_language(2, "de")  # not a language this bot speaks: no choice
    loads = 0
    real_languages = store.languages

    async def counted() -> dict[int, str]:
        nonlocal loads
        loads += 1
        return await real_languages()

    monkeypatch.setattr(store, "languages", counted)
    cache = ChatLanguages()

    found = await asyncio.gather(*(cache.get(store, chat) for chat in (1, 2, 3) * 10))
    await cache.set(store, 3, "en")
    await cache.set(store, 1, None)
    cache.moved(3, -1003)

    assert loads == 1
    assert found[:3] == ["ru", None, None]
    assert [await cache.get(store, chat) for chat in (1, 3, -1003)] == [None, None, "en"]
    assert await store.languages() == {2: "de", 3: "en"}  # moved() follows the store's own move


async def test_a_failed_load_is_tried_again(store: CredentialStore) -> None:
    await store.set_language(1, "ru")
    cache = ChatLanguages()

    class Flaky:
        calls = 0

        async def languages(self) -> dict[int, str]:
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise OSError("database is locked")
            return await store.languages()

    with pytest.raises(OSError):
        await cache.get(Flaky(), 1)  # type: ignore[arg-type]
    assert await cache.get(Flaky(), 1) == "ru"  # type: ignore[arg-type]


def test_the_cache_is_one_per_application(context: Any) -> None:
    assert chat_languages(context) is chat_languages(context)
