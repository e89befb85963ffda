"""The credential store on PostgreSQL, for deployments that already run one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

import asyncpg

from bot.crypto import CredentialCipher
from bot.storage.base import (
    ROTATION_BATCH,
    ChatCredentials,
    CredentialStore,
    RotationReport,
    credentials_from_row,
    rotate_tokens,
)

_CREATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS chat_credentials (
    chat_id           BIGINT      PRIMARY KEY,
    tracker_url       TEXT        NOT NULL,
    api_key_encrypted BYTEA       NOT NULL,  -- Fernet token; the plaintext is never stored
    connected_by_id   BIGINT,
    connected_by_name TEXT        NOT NULL,
    connected_at      TIMESTAMPTZ NOT NULL
);
-- Added later: a table made by an earlier release gains it, its rows verified as before.
ALTER TABLE chat_credentials ADD COLUMN IF NOT EXISTS verify_tls BOOLEAN NOT NULL DEFAULT TRUE;
CREATE TABLE IF NOT EXISTS chat_settings (
    chat_id  BIGINT PRIMARY KEY,
    language TEXT  -- NULL: each user's own language
);
"""

# Any constant works; it only has to be the same for every instance of the bot. It keeps two
# bots starting at once from racing on CREATE TABLE, which is not safe to run concurrently.
_SCHEMA_LOCK_ID = 0x6B65_6974_6172_6F

_COLUMNS = (
    "chat_id, tracker_url, api_key_encrypted, connected_by_id, connected_by_name, connected_at, "
    "verify_tls"
)

_UPSERT = f"""
INSERT INTO chat_credentials ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (chat_id) DO UPDATE SET
    tracker_url = EXCLUDED.tracker_url,
    api_key_encrypted = EXCLUDED.api_key_encrypted,
    connected_by_id = EXCLUDED.connected_by_id,
    connected_by_name = EXCLUDED.connected_by_name,
    connected_at = EXCLUDED.connected_at,
    verify_tls = EXCLUDED.verify_tls
"""

_MOVE_SETTINGS = """
WITH moved AS (DELETE FROM chat_settings WHERE chat_id = $1 RETURNING language)
INSERT INTO chat_settings (chat_id, language) SELECT $2, language FROM moved
ON CONFLICT (chat_id) DO UPDATE SET language = EXCLUDED.language
"""

# One statement, so one transaction per batch. Under READ COMMITTED a row that a concurrent
# put changed is re-checked against its new version, which no longer holds the old token.
_SWAP_TOKENS = """
UPDATE chat_credentials AS c SET api_key_encrypted = s.new
FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS s(chat_id, old, new)
WHERE c.chat_id = s.chat_id AND c.api_key_encrypted = s.old
"""


class PostgresCredentialStore(CredentialStore):
    """Credentials in a ``chat_credentials`` table, through a small asyncpg pool."""

    def __init__(self, dsn: str, cipher: CredentialCipher) -> None:
        self._dsn = dsn  # may hold a password: kept out of repr
        self._cipher = cipher
        self._pool: asyncpg.Pool | None = None

    def __repr__(self) -> str:
        return "<PostgresCredentialStore>"

    async def open(self) -> None:
        if self._pool is not None:
            return
        pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=5, command_timeout=30)
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _SCHEMA_LOCK_ID)
                await conn.execute(_CREATE_SCHEMA)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def get(self, chat_id: int) -> ChatCredentials | None:
        row = await self._db.fetchrow(
            f"SELECT {_COLUMNS} FROM chat_credentials WHERE chat_id = $1", chat_id
        )
        return None if row is None else self._from_row(row)

    async def put(self, creds: ChatCredentials) -> None:
        await self._db.execute(
            _UPSERT,
            creds.chat_id,
            creds.tracker_url,
            self._cipher.encrypt(creds.api_key.get_secret_value()),
            creds.connected_by_id,
            creds.connected_by_name,
            creds.connected_at.astimezone(UTC),
            creds.verify_tls,
        )

    async def delete(self, chat_id: int) -> bool:
        status = await self._db.execute("DELETE FROM chat_credentials WHERE chat_id = $1", chat_id)
        return status != "DELETE 0"

    async def move(self, old_chat_id: int, new_chat_id: int) -> bool:
        async with self._db.acquire() as conn, conn.transaction():
            if old_chat_id != new_chat_id:
                await conn.execute(_MOVE_SETTINGS, old_chat_id, new_chat_id)
            row = await conn.fetchrow(
                f"DELETE FROM chat_credentials WHERE chat_id = $1 RETURNING {_COLUMNS}",
                old_chat_id,
            )
            if row is None:
                return False
            await conn.execute(
                _UPSERT,
                new_chat_id,
                row["tracker_url"],
                row["api_key_encrypted"],
                row["connected_by_id"],
                row["connected_by_name"],
                row["connected_at"],
                row["verify_tls"],
            )
        return True

    async def count(self) -> int:
        return int(await self._db.fetchval("SELECT count(*) FROM chat_credentials"))

    async def set_language(self, chat_id: int, language: str | None) -> None:
        await self._db.execute(
            "INSERT INTO chat_settings (chat_id, language) VALUES ($1, $2) "
            "ON CONFLICT (chat_id) DO UPDATE SET language = EXCLUDED.language",
            chat_id,
            language,
        )

    async def get_language(self, chat_id: int) -> str | None:
        language = await self._db.fetchval(
            "SELECT language FROM chat_settings WHERE chat_id = $1", chat_id
        )
        return None if language is None else str(language)

    async def languages(self) -> dict[int, str]:
        rows = await self._db.fetch(
            "SELECT chat_id, language FROM chat_settings WHERE language IS NOT NULL"
        )
        return {int(row["chat_id"]): str(row["language"]) for row in rows}

    async def check_decryptable(self) -> None:
        row = await self._db.fetchrow(f"SELECT {_COLUMNS} FROM chat_credentials LIMIT 1")
        if row is not None:
            self._from_row(row)

    async def rotate(self, *, batch_size: int = ROTATION_BATCH) -> RotationReport:
        db = self._db

        async def read_page(after: int | None, limit: int) -> list[tuple[int, bytes]]:
            rows = await db.fetch(
                "SELECT chat_id, api_key_encrypted FROM chat_credentials "
                "WHERE $1::bigint IS NULL OR chat_id > $1 ORDER BY chat_id LIMIT $2",
                after,
                limit,
            )
            return [(row["chat_id"], row["api_key_encrypted"]) for row in rows]

        async def swap(swaps: Sequence[tuple[int, bytes, bytes]]) -> int:
            chat_ids, old, new = zip(*swaps, strict=True)
            status = await db.execute(_SWAP_TOKENS, list(chat_ids), list(old), list(new))
            return int(status.rsplit(" ", 1)[1])  # "UPDATE <rows>"

        return await rotate_tokens(self._cipher, read_page, swap, batch_size)

    @property
    def _db(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the credential store is not open; call open() first")
        return self._pool

    def _from_row(self, row: Any) -> ChatCredentials:
        return credentials_from_row(self._cipher, **dict(row))
