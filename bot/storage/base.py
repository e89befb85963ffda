"""The credential store interface: which tracker and API key each chat has connected."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import SecretStr

from bot.crypto import CredentialCipher, WrongEncryptionKey


@dataclass(frozen=True)
class ChatCredentials:
    chat_id: int  # 64-bit: supergroup ids look like -1001234567890123
    tracker_url: str  # normalised tracker root, e.g. "https://tracker.example.com"
    api_key: SecretStr
    connected_by_id: int | None  # None for an anonymous admin posting as the group
    connected_by_name: str  # display name at connect time
    connected_at: datetime  # timezone-aware

    def __post_init__(self) -> None:
        if self.connected_at.utcoffset() is None:
            raise ValueError("connected_at must be timezone-aware")


class CredentialStore(ABC):
    """One chat, one tracker connection. Only the encrypted API key is ever stored."""

    @abstractmethod
    async def open(self) -> None:
        """Connect and create the schema if it is missing. Safe to run on every start."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def get(self, chat_id: int) -> ChatCredentials | None:
        """The chat's credentials, or None. Raises WrongEncryptionKey if they don't decrypt."""

    @abstractmethod
    async def put(self, creds: ChatCredentials) -> None:
        """Save the chat's credentials, replacing any it had, atomically."""

    @abstractmethod
    async def delete(self, chat_id: int) -> bool:
        """Forget the chat's credentials. True if it had any."""

    @abstractmethod
    async def move(self, old_chat_id: int, new_chat_id: int) -> bool:
        """Carry credentials over when a group becomes a supergroup (its id changes).

        Replaces whatever the new chat had. False, and nothing changes, if the old chat
        had no credentials.
        """

    @abstractmethod
    async def count(self) -> int: ...

    @abstractmethod
    async def check_decryptable(self) -> None:
        """Decrypt one stored row, if any; raise WrongEncryptionKey if it fails.

        Run at start-up, so that a wrong key is a clear error before the first lookup.
        """


def credentials_from_row(
    cipher: CredentialCipher,
    *,
    chat_id: int,
    tracker_url: str,
    api_key_encrypted: bytes,
    connected_by_id: int | None,
    connected_by_name: str,
    connected_at: datetime,
) -> ChatCredentials:
    """Decrypt a stored row into credentials; the one place both backends do it."""
    try:
        api_key = cipher.decrypt(api_key_encrypted)
    except WrongEncryptionKey:
        raise WrongEncryptionKey(chat_id) from None
    return ChatCredentials(
        chat_id=chat_id,
        tracker_url=tracker_url,
        api_key=SecretStr(api_key),
        connected_by_id=connected_by_id,
        connected_by_name=connected_by_name,
        connected_at=connected_at.astimezone(UTC),
    )
