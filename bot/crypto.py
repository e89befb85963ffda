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


class MissingEncryptionKey(Exception):
    """The key file is gone while the store still holds credentials encrypted with a key."""

    def __init__(self, key_file: Path, stored: int) -> None:
        super().__init__(
            f"the encryption key file {key_file} is missing, but the database holds {stored} "
            "stored credential(s) encrypted with a key. No new key was generated and nothing "
            "was changed. Restore the key file from your backup, or set "
            "CREDENTIALS_ENCRYPTION_KEY (or ENCRYPTION_KEY_FILE) to the key they were saved with."
        )
        self.key_file = key_file
        self.stored = stored


class CredentialCipher:
    """Encrypts with the first key, decrypts with any of them."""

    __slots__ = ("_fernet", "_key_count", "_primary")

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
                    "(32 url-safe base64-encoded bytes). "
                    "Generate one with: python -m bot generate-key"
                ) from None
        self._fernet = MultiFernet(fernets)
        self._primary = fernets[0]
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

    @property
    def key_count(self) -> int:
        return self._key_count

    def is_current(self, token: bytes) -> bool:
        """Whether the token is already encrypted with the first (primary) key."""
        try:
            self._primary.decrypt(token)
        except InvalidToken:
            return False
        return True

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt a token with the primary key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise WrongEncryptionKey() from None


def load_cipher(configured_keys: str | None, key_file: Path) -> CredentialCipher | None:
    """The cipher of the configured keys, else of the key file; None when there are neither.

    A blank ``configured_keys`` counts as not configured. Generating a key is the caller's
    decision (see ``bot.storage.open_store_with_keys``): a new key is right for an empty store
    only, never for one whose credentials were saved with a key that went missing.
    """
    if configured_keys is not None and configured_keys.strip():
        return CredentialCipher(split_keys(configured_keys))
    if key_file.exists():
        return _read_key_file(key_file)
    return None


def split_keys(text: str) -> list[str]:
    """Keys separated by commas or whitespace (the key file holds one a line), in order."""
    return text.replace(",", " ").split()


def generate_key() -> bytes:
    return Fernet.generate_key()


def write_new_key_file(key_file: Path, key: bytes) -> None:
    """Create ``key_file`` holding ``key``, mode 0600. FileExistsError if it exists."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    # Created with mode 0600 in the same call that creates it, so it is never readable by
    # others, not even between creation and a chmod; O_EXCL never overwrites an existing key.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_directory(key_file.parent)


def add_key_to_file(key_file: Path, key: bytes) -> int:
    """Put ``key`` first in the existing ``key_file``, keeping its keys after it.

    Returns how many keys the file now holds. The file is replaced atomically (a new file of
    mode 0600, fsynced, renamed over the old one), so a crash leaves either the old file or
    the new one, never a torn one. Raises FileNotFoundError if there is no key file: a key is
    added to the keys in use, never instead of them.
    """
    current = _key_file_keys(key_file)  # refuses a missing or broken file before writing
    CredentialCipher([key])  # a bad key is refused before the file is touched
    lines = b"".join(k + b"\n" for k in [key, *current])
    temporary = key_file.with_name(f".{key_file.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, lines)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, key_file)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(key_file.parent)
    return 1 + len(current)


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
    return CredentialCipher(_key_file_keys(key_file))


def _key_file_keys(key_file: Path) -> list[bytes]:
    keys = key_file.read_bytes().replace(b",", b" ").split()
    try:
        CredentialCipher(keys)
    except InvalidEncryptionKey:
        raise InvalidEncryptionKey(
            f"the key file {key_file} does not hold valid Fernet keys (one a line, the one to "
            "encrypt with first). Restore it from your backup; if no credentials were ever "
            "saved with it, delete it to generate a new one."
        ) from None
    return keys


def _fsync_directory(directory: Path) -> None:
    # The new directory entry (a created or renamed file) survives a power loss only once the
    # directory itself is on disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
