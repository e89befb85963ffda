"""Encryption at rest of the tracker API keys that chats connect.

Keys are Fernet keys. Several may be configured, comma-separated: the first encrypts, all of
them decrypt, so a key can be rotated by putting the new one first and the old one after it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

POSTGRES_KEY_FILE_NAME = "keitaro-bot.key"


class InvalidEncryptionKey(ValueError):
    """A configured or stored encryption key is not a Fernet key. The message never holds it."""


class WrongEncryptionKey(Exception):
    """Stored credentials do not decrypt with any of the configured keys."""

    def __init__(self, chat_id: int | None = None) -> None:
        where = f" (chat {chat_id})" if chat_id is not None else ""
        super().__init__(
            f"stored credentials{where} cannot be decrypted with the configured encryption "
            "key(s): the key was changed or lost. Configure the key they were saved with "
            "(CREDENTIALS_ENCRYPTION_KEY or the key file); to rotate, list the new key first "
            "and the old one after it, comma-separated."
        )
        self.chat_id = chat_id


class CredentialCipher:
    """Encrypts with the first key, decrypts with any of them."""

    __slots__ = ("_fernet", "_key_count")

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise InvalidEncryptionKey("no encryption key given")
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError):
                # `from None`: the underlying error is about the key's bytes; keep them out.
                raise InvalidEncryptionKey(
                    f"encryption key #{position} of {len(keys)} is not a valid Fernet key "
                    "(32 url-safe base64-encoded bytes). Generate one with: python -c "
                    '"from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"'
                ) from None
        self._fernet = MultiFernet(fernets)
        self._key_count = len(fernets)

    def __repr__(self) -> str:
        return f"<CredentialCipher keys={self._key_count}>"

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken:
            raise WrongEncryptionKey() from None

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt a token with the primary key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise WrongEncryptionKey() from None


def load_cipher(configured_keys: str | None, key_file: Path) -> tuple[CredentialCipher, bool]:
    """Build the cipher from the configured keys, else from the key file, else a new key.

    Returns the cipher and whether a key was generated (and written to ``key_file``), so the
    caller can tell the operator to back that file up. A blank ``configured_keys`` counts as
    not configured.
    """
    if configured_keys is not None and configured_keys.strip():
        keys = [key.strip() for key in configured_keys.split(",") if key.strip()]
        return CredentialCipher(keys), False
    if key_file.exists():
        return _read_key_file(key_file), False
    key = Fernet.generate_key()
    try:
        _write_new_key_file(key_file, key)
    except FileExistsError:
        # Another process created it since we looked: use its key, not ours.
        return _read_key_file(key_file), False
    return CredentialCipher([key]), True


def key_file_is_private(path: Path) -> bool:
    """True when neither group nor others have any access to the key file."""
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def default_key_file(database_url: str) -> Path:
    """Where the generated key lives: beside an SQLite database, else in the working directory."""
    # Imported here because the storage package depends on this module, not the reverse.
    from bot.storage import sqlite_path

    database_file = sqlite_path(database_url)
    if database_file is None:
        return Path.cwd() / POSTGRES_KEY_FILE_NAME
    return database_file.with_name(database_file.name + ".key")


def _read_key_file(key_file: Path) -> CredentialCipher:
    try:
        return CredentialCipher([key_file.read_bytes().strip()])
    except InvalidEncryptionKey:
        raise InvalidEncryptionKey(
            f"the key file {key_file} does not hold a valid Fernet key. Restore it from your "
            "backup; if no credentials were ever saved with it, delete it to generate a new one."
        ) from None


def _write_new_key_file(key_file: Path, key: bytes) -> None:
    key_file.parent.mkdir(parents=True, exist_ok=True)
    # Created with mode 0600 in the same call that creates it, so it is never readable by
    # others, not even between creation and a chmod; O_EXCL never overwrites an existing key.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
