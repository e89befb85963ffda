"""The credential store: one interface, SQLite (the default) and PostgreSQL behind it."""

from __future__ import annotations

import re
from pathlib import Path

from bot.crypto import CredentialCipher
from bot.storage.base import ChatCredentials, CredentialStore
from bot.storage.postgres import PostgresCredentialStore
from bot.storage.sqlite import SQLiteCredentialStore

__all__ = [
    "ChatCredentials",
    "CredentialStore",
    "PostgresCredentialStore",
    "SQLiteCredentialStore",
    "open_store",
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
