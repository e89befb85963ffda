"""The same contract for both credential stores: SQLite in a temporary directory, PostgreSQL
on the real server (POSTGRES_TEST_URL), each test in a schema of its own."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.crypto import CredentialCipher, MissingEncryptionKey, WrongEncryptionKey
from bot.storage import (
    ChatCredentials,
    CredentialStore,
    PostgresCredentialStore,
    SQLiteCredentialStore,
    open_store,
    open_store_with_keys,
    sqlite_path,
)
from tests.pg import fresh_schema

SUPERGROUP = -1001234567890123
API_KEY = "f3a9c2e17b5d4e6f8a0b1c2d3e4f5a6b"

StoreFactory = Callable[[CredentialCipher], CredentialStore]


def new_cipher() -> CredentialCipher:
    return CredentialCipher([Fernet.generate_key()])


def credentials(chat_id: int = SUPERGROUP, **changes: object) -> ChatCredentials:
    creds = ChatCredentials(
        chat_id=chat_id,
        tracker_url="https://трекер.пример.рф",
        api_key=SecretStr(API_KEY),
        connected_by_id=7_000_000_001,
        connected_by_name="Алёна 🚀 O'Brien",
        connected_at=datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=UTC),
    )
    return replace(creds, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def postgres_schema() -> AsyncIterator[str]:
    async with fresh_schema() as dsn:
        yield dsn


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    """Makes stores over one database, each with the cipher it is given; closes them all."""
    made: list[CredentialStore] = []
    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            path = tmp_path / "data" / "keitaro-bot.sqlite3"

            def make(cipher: CredentialCipher) -> CredentialStore:
                made.append(SQLiteCredentialStore(path, cipher))
                return made[-1]
        else:
            dsn = await stack.enter_async_context(fresh_schema())

            def make(cipher: CredentialCipher) -> CredentialStore:
                made.append(PostgresCredentialStore(dsn, cipher))
                return made[-1]

        try:
            yield make
        finally:
            for store in made:
                await store.close()


@pytest.fixture
def key() -> bytes:
    return Fernet.generate_key()


@pytest.fixture
def cipher(key: bytes) -> CredentialCipher:
    return CredentialCipher([key])


@pytest.fixture
async def store(make_store: StoreFactory, cipher: CredentialCipher) -> CredentialStore:
    store = make_store(cipher)
    await store.open()
    return store


async def test_put_then_get_returns_the_same_credentials(store: CredentialStore) -> None:
    creds = credentials()

    await store.put(creds)
    got = await store.get(SUPERGROUP)

    assert got == creds
    assert got is not None
    assert got.api_key.get_secret_value() == API_KEY
    assert got.connected_at.utcoffset() == timedelta(0)


async def test_get_of_an_unknown_chat_is_none(store: CredentialStore) -> None:
    assert await store.get(SUPERGROUP) is None


async def test_connected_at_is_kept_as_utc(store: CredentialStore) -> None:
    moscow = timezone(timedelta(hours=3))
    await store.put(credentials(connected_at=datetime(2025, 3, 1, 15, 0, tzinfo=moscow)))

    got = await store.get(SUPERGROUP)

    assert got is not None
    assert got.connected_at == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert got.connected_at.utcoffset() == timedelta(0)


async def test_an_anonymous_admin_is_stored_without_user_id(store: CredentialStore) -> None:
    await store.put(credentials(connected_by_id=None, connected_by_name="Группа"))

    got = await store.get(SUPERGROUP)

    assert got is not None
    assert got.connected_by_id is None


async def test_put_replaces_what_the_chat_had(store: CredentialStore) -> None:
    await store.put(credentials())
    newer = credentials(
        tracker_url="https://other.example.com",
        api_key=SecretStr("another-key"),
        connected_by_id=5,
        connected_by_name="Bob",
        connected_at=datetime(2025, 4, 1, tzinfo=UTC),
    )

    await store.put(newer)

    assert await store.get(SUPERGROUP) == newer
    assert await store.count() == 1


async def test_delete_says_whether_there_was_something(store: CredentialStore) -> None:
    await store.put(credentials())
    await store.put(credentials(chat_id=42))

    assert await store.delete(SUPERGROUP) is True
    assert await store.delete(SUPERGROUP) is False
    assert await store.get(SUPERGROUP) is None
    assert await store.get(42) is not None


async def test_move_carries_credentials_to_the_supergroup(store: CredentialStore) -> None:
    group, supergroup = -4_123_456_789, SUPERGROUP
    await store.put(credentials(chat_id=group))

    assert await store.move(group, supergroup) is True

    assert await store.get(group) is None
    assert await store.get(supergroup) == credentials(chat_id=supergroup)
    assert await store.count() == 1


async def test_move_replaces_what_the_new_chat_had(store: CredentialStore) -> None:
    await store.put(credentials(chat_id=1, tracker_url="https://old-group.example.com"))
    await store.put(credentials(chat_id=2, tracker_url="https://stale.example.com"))

    assert await store.move(1, 2) is True

    got = await store.get(2)
    assert got is not None
    assert got.tracker_url == "https://old-group.example.com"
    assert await store.count() == 1


async def test_move_of_an_unknown_chat_changes_nothing(store: CredentialStore) -> None:
    await store.put(credentials(chat_id=2))

    assert await store.move(1, 2) is False

    assert await store.get(2) == credentials(chat_id=2)


async def test_move_to_itself_keeps_the_credentials(store: CredentialStore) -> None:
    await store.put(credentials())

    assert await store.move(SUPERGROUP, SUPERGROUP) is True

    assert await store.get(SUPERGROUP) == credentials()


async def test_count(store: CredentialStore) -> None:
    assert await store.count() == 0
    for chat_id in (1, -2, SUPERGROUP):
        await store.put(credentials(chat_id=chat_id))
    await store.put(credentials(chat_id=1))

    assert await store.count() == 3


async def test_credentials_survive_a_restart(
    make_store: StoreFactory, cipher: CredentialCipher
) -> None:
    first = make_store(cipher)
    await first.open()
    await first.put(credentials())
    await first.close()

    second = make_store(cipher)
    await second.open()
    await second.open()  # opening twice is harmless

    assert await second.get(SUPERGROUP) == credentials()
    await second.check_decryptable()


async def test_concurrent_writes_from_many_chats_all_land(store: CredentialStore) -> None:
    await asyncio.gather(*(store.put(credentials(chat_id=-chat)) for chat in range(1, 101)))
    deleted = await asyncio.gather(
        *(store.delete(-chat) for chat in range(1, 51)),
        *(
            store.put(credentials(chat_id=chat, connected_by_name=f"u{chat}"))
            for chat in range(1, 51)
        ),
    )

    assert deleted[:50] == [True] * 50
    assert await store.count() == 100
    for chat in range(1, 51):
        assert await store.get(-chat) is None
        got = await store.get(chat)
        assert got is not None
        assert got.connected_by_name == f"u{chat}"
    for chat in range(51, 101):
        assert await store.get(-chat) == credentials(chat_id=-chat)


async def test_a_wrong_key_is_an_error_and_leaves_the_rows_alone(
    make_store: StoreFactory, cipher: CredentialCipher
) -> None:
    right = make_store(cipher)
    await right.open()
    await right.put(credentials())
    await right.close()

    wrong = make_store(new_cipher())
    await wrong.open()
    with pytest.raises(WrongEncryptionKey) as raised:
        await wrong.get(SUPERGROUP)
    with pytest.raises(WrongEncryptionKey):
        await wrong.check_decryptable()
    assert str(SUPERGROUP) in str(raised.value)
    assert await wrong.count() == 1
    await wrong.close()

    again = make_store(cipher)
    await again.open()
    assert await again.get(SUPERGROUP) == credentials()


async def test_check_decryptable_passes_when_empty_or_with_the_right_keys(
    make_store: StoreFactory, key: bytes, cipher: CredentialCipher
) -> None:
    store = make_store(cipher)
    await store.open()
    await store.check_decryptable()
    await store.put(credentials())
    await store.close()

    rotated = make_store(CredentialCipher([Fernet.generate_key(), key]))
    await rotated.open()
    await rotated.check_decryptable()
    assert await rotated.get(SUPERGROUP) == credentials()


async def test_using_a_store_before_open_is_a_clear_error(
    make_store: StoreFactory, cipher: CredentialCipher
) -> None:
    with pytest.raises(RuntimeError, match="not open"):
        await make_store(cipher).get(1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'keitaro-bot.sqlite3'}"
    else:
        async with fresh_schema() as dsn:
            yield dsn


async def test_first_start_generates_a_key_file_and_the_next_start_uses_it(
    database_url: str, tmp_path: Path
) -> None:
    key_file = tmp_path / "keys" / "bot.key"

    first, generated = await open_store_with_keys(database_url, None, key_file)
    await first.put(credentials())
    await first.close()
    second, generated_again = await open_store_with_keys(database_url, None, key_file)
    got = await second.get(SUPERGROUP)
    await second.close()

    assert (generated, generated_again) == (True, False)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert got == credentials()


async def test_a_missing_key_file_with_stored_credentials_generates_no_key(
    database_url: str, tmp_path: Path, key: bytes
) -> None:
    store = open_store(database_url, CredentialCipher([key]))
    await store.open()
    await store.put(credentials())
    await store.put(credentials(chat_id=42))
    await store.close()
    key_file = tmp_path / "keitaro-bot.sqlite3.key"  # lost, or never copied to this server

    for _ in range(2):  # and the next start says the same, instead of using a stray new key
        with pytest.raises(MissingEncryptionKey) as raised:
            await open_store_with_keys(database_url, None, key_file)
        assert str(key_file) in str(raised.value)
        assert "holds 2 stored credential(s)" in str(raised.value)
        assert "No new key was generated" in str(raised.value)
        assert not key_file.exists()

    restored, generated = await open_store_with_keys(database_url, key.decode(), key_file)
    assert generated is False
    assert await restored.get(SUPERGROUP) == credentials()
    await restored.close()


async def test_a_wrong_configured_key_is_refused_at_open(
    database_url: str, tmp_path: Path, key: bytes
) -> None:
    store = open_store(database_url, CredentialCipher([key]))
    await store.open()
    await store.put(credentials())
    await store.close()

    with pytest.raises(WrongEncryptionKey):
        await open_store_with_keys(
            database_url, Fernet.generate_key().decode(), tmp_path / "unused.key"
        )
    assert not (tmp_path / "unused.key").exists()


# Nothing at rest may hold the plaintext key. Each test first finds a value stored in the
# clear (the tracker URL), so that it is known to be reading the bytes that were written.


def sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


async def test_sqlite_files_are_private_and_never_hold_the_plaintext_key(
    tmp_path: Path, cipher: CredentialCipher
) -> None:
    path = tmp_path / "data" / "keitaro-bot.sqlite3"
    store = SQLiteCredentialStore(path, cipher)
    await store.open()
    for chat in range(20):
        await store.put(credentials(chat_id=chat))
    await store.delete(3)

    before_checkpoint = b"".join(f.read_bytes() for f in sqlite_files(path) if f.exists())
    modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in sqlite_files(path)}
    await store.close()  # the last connection to close checkpoints the WAL into the file
    after_checkpoint = b"".join(f.read_bytes() for f in sqlite_files(path) if f.exists())

    assert modes == {f.name: 0o600 for f in sqlite_files(path)}
    tracker = "трекер.пример.рф".encode()
    assert tracker in before_checkpoint
    assert tracker in path.read_bytes()
    for snapshot in (before_checkpoint, after_checkpoint):
        assert API_KEY.encode() not in snapshot
        assert API_KEY[:8].encode() not in snapshot
        assert API_KEY[-8:].encode() not in snapshot


@pytest.mark.postgres
async def test_postgres_row_never_holds_the_plaintext_key(
    postgres_schema: str, cipher: CredentialCipher
) -> None:
    store = PostgresCredentialStore(postgres_schema, cipher)
    await store.open()
    await store.put(credentials())
    await store.close()

    conn = await asyncpg.connect(postgres_schema)
    try:
        row = await conn.fetchrow("SELECT * FROM chat_credentials")
        as_text = await conn.fetchval("SELECT t::text FROM chat_credentials t")
    finally:
        await conn.close()

    assert row is not None
    assert row["tracker_url"] == "https://трекер.пример.рф"
    raw = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row.values())
    for fragment in (API_KEY, API_KEY[:8], API_KEY[-8:]):
        assert fragment.encode() not in raw
        assert fragment not in as_text
        assert fragment.encode().hex() not in as_text


@pytest.mark.parametrize(
    ("database_url", "backend", "path"),
    [
        (
            "sqlite:///data/keitaro-bot.sqlite3",
            SQLiteCredentialStore,
            Path("data/keitaro-bot.sqlite3"),
        ),
        ("sqlite:////tmp/x.db", SQLiteCredentialStore, Path("/tmp/x.db")),
        ("  SQLite:///bot.db ", SQLiteCredentialStore, Path("bot.db")),
        ("postgresql://bot:pw@db:5432/bot", PostgresCredentialStore, None),
        ("postgres://db/bot", PostgresCredentialStore, None),
    ],
)
def test_database_urls_name_a_backend(
    database_url: str, backend: type[CredentialStore], path: Path | None, cipher: CredentialCipher
) -> None:
    assert isinstance(open_store(database_url, cipher), backend)
    assert sqlite_path(database_url) == path


@pytest.mark.parametrize(
    "database_url",
    [
        "mysql://bot:hunter2secret@db/bot",
        "sqlite://hunter2secret.db",
        "sqlite:///",
        "sqlite:///:memory:",
        "postgresql+asyncpg://bot:hunter2secret@db/bot",
        "bot:hunter2secret@db/bot",
        "hunter2secret",
        "",
    ],
)
def test_other_database_urls_are_refused_without_echoing_them(
    database_url: str, cipher: CredentialCipher
) -> None:
    with pytest.raises(ValueError, match="sqlite:///relative/path") as raised:
        open_store(database_url, cipher)

    assert "hunter2secret" not in str(raised.value)


def test_reprs_of_stores_show_no_password(cipher: CredentialCipher) -> None:
    store = open_store("postgresql://bot:hunter2secret@db/bot", cipher)

    assert "hunter2secret" not in repr(store)


# Per-chat settings: whether the tracker's TLS certificate is verified, and the chat's language.


async def test_verify_tls_is_kept_per_chat_and_defaults_to_verified(
    store: CredentialStore,
) -> None:
    await store.put(credentials(chat_id=1))
    await store.put(credentials(chat_id=2, verify_tls=False))

    verified, unverified = await store.get(1), await store.get(2)

    assert verified is not None and verified.verify_tls is True
    assert unverified is not None and unverified.verify_tls is False
    await store.put(credentials(chat_id=2))  # reconnecting without "insecure" verifies again
    again = await store.get(2)
    assert again is not None and again.verify_tls is True


async def test_move_keeps_an_unverified_tls_choice(store: CredentialStore) -> None:
    await store.put(credentials(chat_id=-4_000_000_001, verify_tls=False))

    assert await store.move(-4_000_000_001, SUPERGROUP) is True

    assert await store.get(SUPERGROUP) == credentials(verify_tls=False)


async def test_a_chat_language_is_set_read_and_cleared(store: CredentialStore) -> None:
    assert await store.get_language(SUPERGROUP) is None
    assert await store.languages() == {}

    await store.set_language(SUPERGROUP, "ru")
    await store.set_language(42, "en")
    await store.set_language(42, "ru")
    await store.set_language(7, "en")
    await store.set_language(7, None)  # "auto": back to each user's language

    assert await store.get_language(SUPERGROUP) == "ru"
    assert await store.get_language(7) is None
    assert await store.languages() == {SUPERGROUP: "ru", 42: "ru"}


async def test_a_chat_language_is_independent_of_its_credentials(store: CredentialStore) -> None:
    await store.set_language(SUPERGROUP, "ru")  # a chat may choose a language before connecting
    assert await store.count() == 0

    await store.put(credentials())
    await store.delete(SUPERGROUP)

    assert await store.get_language(SUPERGROUP) == "ru"


async def test_move_carries_the_language_to_the_supergroup(store: CredentialStore) -> None:
    group = -4_123_456_789
    await store.set_language(group, "ru")
    await store.set_language(-5, "en")
    await store.put(credentials(chat_id=-5))

    # A group without credentials still takes its language along.
    assert await store.move(group, SUPERGROUP) is False
    assert await store.move(-5, -6) is True

    assert await store.languages() == {SUPERGROUP: "ru", -6: "en"}
    assert await store.move(SUPERGROUP, SUPERGROUP) is False
    assert await store.get_language(SUPERGROUP) == "ru"


async def test_settings_survive_a_restart(
    make_store: StoreFactory, cipher: CredentialCipher
) -> None:
    first = make_store(cipher)
    await first.open()
    await first.put(credentials(verify_tls=False))
    await first.set_language(SUPERGROUP, "ru")
    await first.close()

    second = make_store(cipher)
    await second.open()

    assert await second.get(SUPERGROUP) == credentials(verify_tls=False)
    assert await second.languages() == {SUPERGROUP: "ru"}


# The schema of the first release, as databases made by it still hold it.
_SQLITE_V1 = """
CREATE TABLE chat_credentials (
    chat_id           INTEGER PRIMARY KEY,
    tracker_url       TEXT    NOT NULL,
    api_key_encrypted BLOB    NOT NULL,
    connected_by_id   INTEGER,
    connected_by_name TEXT    NOT NULL,
    connected_at      TEXT    NOT NULL
) STRICT
"""


async def test_an_sqlite_database_of_schema_1_is_upgraded_in_place(
    tmp_path: Path, cipher: CredentialCipher
) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(_SQLITE_V1)
        db.executemany(
            "INSERT INTO chat_credentials VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    chat,
                    "https://трекер.пример.рф",
                    cipher.encrypt(API_KEY),
                    7_000_000_001,
                    "Алёна 🚀 O'Brien",
                    "2025-03-01T12:30:15.123456+00:00",
                )
                for chat in (SUPERGROUP, 1, 2)
            ],
        )
        db.execute("PRAGMA user_version = 1")
    db.close()

    for _ in range(2):  # the second open finds the new version and changes nothing
        store = SQLiteCredentialStore(path, cipher)
        await store.open()
        assert await store.count() == 3
        assert await store.get(SUPERGROUP) == credentials()  # verify_tls: True, as before
        await store.set_language(1, "ru")
        assert await store.languages() == {1: "ru"}
        await store.close()

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (2,)
    db.close()


async def test_an_sqlite_database_newer_than_the_bot_is_refused(
    tmp_path: Path, cipher: CredentialCipher
) -> None:
    path = tmp_path / "new.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    db.close()

    with pytest.raises(RuntimeError, match="schema version 99, newer than this bot's 2"):
        await SQLiteCredentialStore(path, cipher).open()


@pytest.mark.postgres
async def test_a_postgres_table_of_the_first_release_is_upgraded_in_place(
    postgres_schema: str, cipher: CredentialCipher
) -> None:
    conn = await asyncpg.connect(postgres_schema)
    try:
        await conn.execute(
            """
            CREATE TABLE chat_credentials (
                chat_id BIGINT PRIMARY KEY, tracker_url TEXT NOT NULL,
                api_key_encrypted BYTEA NOT NULL, connected_by_id BIGINT,
                connected_by_name TEXT NOT NULL, connected_at TIMESTAMPTZ NOT NULL
            )
            """
        )
        await conn.execute(
            "INSERT INTO chat_credentials VALUES ($1, $2, $3, $4, $5, $6)",
            SUPERGROUP,
            "https://трекер.пример.рф",
            cipher.encrypt(API_KEY),
            7_000_000_001,
            "Алёна 🚀 O'Brien",
            datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=UTC),
        )
    finally:
        await conn.close()

    for _ in range(2):
        store = PostgresCredentialStore(postgres_schema, cipher)
        await store.open()
        assert await store.get(SUPERGROUP) == credentials()
        await store.set_language(SUPERGROUP, "en")
        assert await store.languages() == {SUPERGROUP: "en"}
        await store.close()
