"""The default credential store: one SQLite file beside the bot."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from bot.crypto import CredentialCipher
from bot.storage.base import (
    ROTATION_BATCH,
    ChatCredentials,
    CredentialStore,
    RotationReport,
    credentials_from_row,
    rotate_tokens,
)

SCHEMA_VERSION = 2
ROTATION_BUSY_TIMEOUT_MS = 30_000

# MIGRATIONS[n] takes a database from user_version n to n + 1. Old steps never change: a
# database made by any earlier release upgrades in place, keeping its rows.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE IF NOT EXISTS chat_credentials (
            chat_id           INTEGER PRIMARY KEY,  -- SQLite integers are 64-bit
            tracker_url       TEXT    NOT NULL,
            api_key_encrypted BLOB    NOT NULL,     -- Fernet token; the plaintext is never stored
            connected_by_id   INTEGER,
            connected_by_name TEXT    NOT NULL,
            connected_at      TEXT    NOT NULL      -- ISO 8601, UTC
        ) STRICT
        """,
    ),
    (
        # 1 for every tracker connected before: they were all verified.
        "ALTER TABLE chat_credentials ADD COLUMN verify_tls INTEGER NOT NULL DEFAULT 1",
        """
        CREATE TABLE IF NOT EXISTS chat_settings (
            chat_id  INTEGER PRIMARY KEY,
            language TEXT                          -- NULL: each user's own language
        ) STRICT
        """,
    ),
)
assert len(MIGRATIONS) == SCHEMA_VERSION

_COLUMNS = (
    "chat_id, tracker_url, api_key_encrypted, connected_by_id, connected_by_name, connected_at, "
    "verify_tls"
)


class SQLiteCredentialStore(CredentialStore):
    """Credentials in one SQLite file, created readable by its owner only.

    Every write is a single statement in autocommit mode, and aiosqlite runs statements one
    at a time on its own thread, so concurrent writes from many chats are serialised without
    any transaction of ours spanning an ``await``.
    """

    def __init__(self, path: Path, cipher: CredentialCipher) -> None:
        self.path = path
        self._cipher = cipher
        self._db: aiosqlite.Connection | None = None

    def __repr__(self) -> str:
        return f"<SQLiteCredentialStore {str(self.path)!r}>"

    async def open(self) -> None:
        if self._db is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _create_private_file(self.path)
        db = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            await self._configure(db)
            await self._migrate(db)
        except BaseException:
            await db.close()
            raise
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    async def get(self, chat_id: int) -> ChatCredentials | None:
        async with self._conn.execute(
            f"SELECT {_COLUMNS} FROM chat_credentials WHERE chat_id = ?", (chat_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else self._from_row(row)

    async def put(self, creds: ChatCredentials) -> None:
        await self._conn.execute(
            f"""
            INSERT INTO chat_credentials ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (chat_id) DO UPDATE SET
                tracker_url = excluded.tracker_url,
                api_key_encrypted = excluded.api_key_encrypted,
                connected_by_id = excluded.connected_by_id,
                connected_by_name = excluded.connected_by_name,
                connected_at = excluded.connected_at,
                verify_tls = excluded.verify_tls
            """,
            (
                creds.chat_id,
                creds.tracker_url,
                self._cipher.encrypt(creds.api_key.get_secret_value()),
                creds.connected_by_id,
                creds.connected_by_name,
                creds.connected_at.astimezone(UTC).isoformat(),
                int(creds.verify_tls),
            ),
        )

    async def delete(self, chat_id: int) -> bool:
        cursor = await self._conn.execute(
            "DELETE FROM chat_credentials WHERE chat_id = ?", (chat_id,)
        )
        return cursor.rowcount > 0

    async def move(self, old_chat_id: int, new_chat_id: int) -> bool:
        self._conn  # noqa: B018 -- the same "not open" error as every other method
        # Two tables in one transaction, on a connection of its own (as in rotate): a
        # transaction on the shared one would take in the bot's concurrent writes.
        async with aiosqlite.connect(self.path, isolation_level=None) as db:
            await self._configure(db)
            await db.execute("BEGIN IMMEDIATE")
            try:
                # OR REPLACE: a row the new chat already had is replaced, in the same statement.
                cursor = await db.execute(
                    "UPDATE OR REPLACE chat_credentials SET chat_id = ? WHERE chat_id = ?",
                    (new_chat_id, old_chat_id),
                )
                moved = cursor.rowcount > 0
                await db.execute(
                    "UPDATE OR REPLACE chat_settings SET chat_id = ? WHERE chat_id = ?",
                    (new_chat_id, old_chat_id),
                )
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        return moved

    async def count(self) -> int:
        async with self._conn.execute("SELECT count(*) FROM chat_credentials") as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    async def set_language(self, chat_id: int, language: str | None) -> None:
        await self._conn.execute(
            "INSERT INTO chat_settings (chat_id, language) VALUES (?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET language = excluded.language",
            (chat_id, language),
        )

    async def get_language(self, chat_id: int) -> str | None:
        async with self._conn.execute(
            "SELECT language FROM chat_settings WHERE chat_id = ?", (chat_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else row[0]

    async def languages(self) -> dict[int, str]:
        async with self._conn.execute(
            "SELECT chat_id, language FROM chat_settings WHERE language IS NOT NULL"
        ) as cursor:
            return {int(chat_id): str(language) for chat_id, language in await cursor.fetchall()}

    async def check_decryptable(self) -> None:
        async with self._conn.execute(f"SELECT {_COLUMNS} FROM chat_credentials LIMIT 1") as cursor:
            row = await cursor.fetchone()
        if row is not None:
            self._from_row(row)

    async def rotate(self, *, batch_size: int = ROTATION_BATCH) -> RotationReport:
        self._conn  # noqa: B018 -- the same "not open" error as every other method
        # A connection of its own: a transaction on the shared one would take in the bot's
        # concurrent writes, and their put() would return before they were committed.
        async with aiosqlite.connect(self.path, isolation_level=None) as db:
            await self._configure(db)
            # SQLite's lock is not fair: under a burst of the bot's writes, a batch may wait
            # a while for its turn. A rotation can afford to be patient.
            await db.execute(f"PRAGMA busy_timeout = {ROTATION_BUSY_TIMEOUT_MS}")

            async def read_page(after: int | None, limit: int) -> list[tuple[int, bytes]]:
                where = "" if after is None else "WHERE chat_id > ?"
                parameters = (limit,) if after is None else (after, limit)
                async with db.execute(
                    f"SELECT chat_id, api_key_encrypted FROM chat_credentials {where} "
                    "ORDER BY chat_id LIMIT ?",
                    parameters,
                ) as cursor:
                    return [(int(row[0]), bytes(row[1])) for row in await cursor.fetchall()]

            async def swap(swaps: Sequence[tuple[int, bytes, bytes]]) -> int:
                # IMMEDIATE: take the write lock now, so that the compare and the write
                # below see the same row; other writers wait (busy_timeout) for this batch.
                await db.execute("BEGIN IMMEDIATE")
                try:
                    swapped = 0
                    for chat_id, old, new in swaps:
                        cursor = await db.execute(
                            "UPDATE chat_credentials SET api_key_encrypted = ? "
                            "WHERE chat_id = ? AND api_key_encrypted = ?",
                            (new, chat_id, old),
                        )
                        swapped += cursor.rowcount
                    await db.execute("COMMIT")
                except BaseException:
                    await db.execute("ROLLBACK")
                    raise
                return swapped

            return await rotate_tokens(self._cipher, read_page, swap, batch_size)

    @property
    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the credential store is not open; call open() first")
        return self._db

    def _from_row(self, row: aiosqlite.Row) -> ChatCredentials:
        chat_id, tracker_url, encrypted, by_id, by_name, connected_at, verify_tls = row
        return credentials_from_row(
            self._cipher,
            chat_id=chat_id,
            tracker_url=tracker_url,
            api_key_encrypted=encrypted,
            connected_by_id=by_id,
            connected_by_name=by_name,
            connected_at=datetime.fromisoformat(connected_at),
            verify_tls=bool(verify_tls),
        )

    @staticmethod
    async def _configure(db: aiosqlite.Connection) -> None:
        # Another process (a second bot, a backup tool) may hold the lock for a moment.
        await db.execute("PRAGMA busy_timeout = 5000")
        async with db.execute("PRAGMA journal_mode = WAL") as cursor:
            row = await cursor.fetchone()
        if row is None or str(row[0]).lower() != "wal":
            raise RuntimeError(f"could not switch {db!r} to WAL journal mode")
        # FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss. A chat
        # told "connected" must stay connected, and writes are rare enough that an fsync per
        # commit costs nothing anyone notices.
        await db.execute("PRAGMA synchronous = FULL")

    @staticmethod
    async def _migrate(db: aiosqlite.Connection) -> None:
        version = await _user_version(db)
        if version == SCHEMA_VERSION:
            return
        _check_not_newer(version)
        # IMMEDIATE takes the write lock first, so two bots starting together don't race; the
        # version is read again under the lock, because the other one may have just upgraded.
        await db.execute("BEGIN IMMEDIATE")
        try:
            version = await _user_version(db)
            _check_not_newer(version)
            for step in MIGRATIONS[version:]:
                for statement in step:
                    await db.execute(statement)
            await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise


async def _user_version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row is not None else 0


def _check_not_newer(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"the credential database has schema version {version}, newer than this "
            f"bot's {SCHEMA_VERSION}: upgrade the bot, or restore an older database"
        )


def _create_private_file(path: Path) -> None:
    """Create the database file with mode 0600 before SQLite opens it.

    SQLite gives the -wal and -shm files the permissions of the database file, so they are
    private too. An existing file keeps whatever mode its owner gave it.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
