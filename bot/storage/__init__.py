"""The credential store: one interface, SQLite (the default) and PostgreSQL behind it."""

from __future__ import annotations

import re
from pathlib import Path

from bot.crypto import (
    CredentialCipher,
    MissingEncryptionKey,
    generate_key,
    load_cipher,
    write_new_key_file,
)
from bot.storage.base import ChatCredentials, CredentialStore, RotationReport
from bot.storage.postgres import PostgresCredentialStore
from bot.storage.sqlite import SQLiteCredentialStore

__all__ = [
    "ChatCredentials",
    "CredentialStore",
    "PostgresCredentialStore",
    "RotationReport",
    "SQLiteCredentialStore",
    "open_store",
    "open_store_with_keys",
    "sqlite_path",
]

_SQLITE_PREFIX = "sqlite:///"
_POSTGRES_SCHEMES = ("postgresql", "postgres")
_ACCEPTED_FORMS = (
    "sqlite:///relative/path.sqlite3, sqlite:////absolute/path.sqlite3, "
    "or postgresql://user:password@host:5432/dbname"
)


def open_store(database_url: str, cipher: CredentialCipher) -> CredentialStore:
    """The store a DATABASE_URL names, not yet opened."""
    path = sqlite_path(database_url)
    if path is not None:
        return SQLiteCredentialStore(path, cipher)
    return PostgresCredentialStore(database_url.strip(), cipher)


async def open_store_with_keys(
    database_url: str, configured_keys: str | None, key_file: Path
) -> tuple[CredentialStore, bool]:
    """Open the store with the configured keys or the key file's, checked to decrypt.

    With neither, a new key is generated, but only for a store with no credentials yet: for
    one that has some, their key went missing, and a new key would only hide that. Then
    MissingEncryptionKey is raised and no key file is written, so the next start says the same.
    Returns the open store and whether a key file was generated. Closes the store on failure.
    """
    while True:
        cipher = load_cipher(configured_keys, key_file)
        new_key = None
        if cipher is None:
            new_key = generate_key()
            cipher = CredentialCipher([new_key])
        store = open_store(database_url, cipher)
        await store.open()
        try:
            if new_key is not None:
                stored = await store.count()
                if stored:
                    raise MissingEncryptionKey(key_file, stored)
                try:
                    write_new_key_file(key_file, new_key)
                except FileExistsError:
                    # Another process created it since we looked: use its key, not ours.
                    await store.close()
                    continue
            await store.check_decryptable()
        except BaseException:
            await store.close()  # an open SQLite connection's thread would keep a process alive
            raise
        return store, new_key is not None


def sqlite_path(database_url: str) -> Path | None:
    """The database file of an SQLite URL; None for a PostgreSQL one.

    Follows SQLAlchemy: ``sqlite:///data/bot.sqlite3`` is relative to the working directory,
    ``sqlite:////var/lib/bot.sqlite3`` (four slashes) is absolute. Raises ValueError for
    anything else, without echoing the URL, which may hold a password.
    """
    url = database_url.strip()
    scheme, separator, _ = url.partition("://")
    scheme = scheme.lower()
    if separator and scheme in _POSTGRES_SCHEMES:
        return None
    if separator and scheme == "sqlite":
        if not url.lower().startswith(_SQLITE_PREFIX):
            raise ValueError(
                f"an SQLite DATABASE_URL needs three slashes before the path; use {_ACCEPTED_FORMS}"
            )
        path = url[len(_SQLITE_PREFIX) :]
        if not path or path == ":memory:":
            raise ValueError(
                f"an SQLite DATABASE_URL needs a file path (an in-memory database would lose "
                f"every connection on restart); use {_ACCEPTED_FORMS}"
            )
        return Path(path)
    # Name the scheme only when it is one: text before "://" in a mangled URL may be a secret.
    named = f" {scheme!r}" if separator and re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme) else ""
    raise ValueError(f"unsupported DATABASE_URL{named}; use {_ACCEPTED_FORMS}")
