"""The credential store interface: which tracker and API key each chat has connected."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import SecretStr

from bot.crypto import CredentialCipher, WrongEncryptionKey

ROTATION_BATCH = 100  # rows per transaction: a few milliseconds of write lock
ROTATION_PASSES = 5


@dataclass(frozen=True)
class ChatCredentials:
    chat_id: int  # 64-bit: supergroup ids look like -1001234567890123
    tracker_url: str  # normalised tracker root, e.g. "https://tracker.example.com"
    api_key: SecretStr
    connected_by_id: int | None  # None for an anonymous admin posting as the group
    connected_by_name: str  # display name at connect time
    connected_at: datetime  # timezone-aware
    # False only for a tracker with a self-signed certificate that an admin chose to trust
    # (``/connect <url> <key> insecure``, allowed by KEITARO_ALLOW_UNVERIFIED_TLS).
    verify_tls: bool = True

    def __post_init__(self) -> None:
        if self.connected_at.utcoffset() is None:
            raise ValueError("connected_at must be timezone-aware")


class CredentialStore(ABC):
    """One chat, one tracker connection. Only the encrypted API key is ever stored.

    Beside the credentials, each chat may have settings of its own (its language), kept
    apart from them: disconnecting a tracker keeps the chat's language.
    """

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
        """Carry credentials and settings over when a group becomes a supergroup (its id changes).

        Replaces whatever the new chat had. Returns whether the old chat had credentials;
        without them, only its settings (if any) move.
        """

    @abstractmethod
    async def count(self) -> int: ...

    @abstractmethod
    async def set_language(self, chat_id: int, language: str | None) -> None:
        """Set the chat's language override; None clears it (each user's own language)."""

    @abstractmethod
    async def get_language(self, chat_id: int) -> str | None:
        """The chat's language override, or None."""

    @abstractmethod
    async def languages(self) -> dict[int, str]:
        """Every chat's language override, by chat id: loaded once, then cached by the bot."""

    @abstractmethod
    async def check_decryptable(self) -> None:
        """Decrypt one stored row, if any; raise WrongEncryptionKey if it fails.

        Run at start-up, so that a wrong key is a clear error before the first lookup.
        """

    @abstractmethod
    async def rotate(self, *, batch_size: int = ROTATION_BATCH) -> RotationReport:
        """Re-encrypt every stored API key with the cipher's first key, in place.

        Safe while bots read and write the store (see ``rotate_tokens``). Rows that no
        configured key decrypts are left exactly as they were and reported.
        """


@dataclass(frozen=True)
class RotationReport:
    rotated: int  # rows re-encrypted with the first key
    already_current: int  # rows that were encrypted with it already when first read
    undecryptable: tuple[int, ...]  # chat ids no configured key decrypts; left untouched
    complete: bool  # the last pass found nothing left to rotate

    @property
    def ok(self) -> bool:
        return self.complete and not self.undecryptable


# One page of (chat_id, token) ordered by chat_id, after the given chat id (None: from the start).
ReadPage = Callable[[int | None, int], Awaitable[Sequence[tuple[int, bytes]]]]
# Writes (chat_id, old token, new token) where the row still holds the old token, in one
# transaction; returns how many rows it rewrote.
SwapTokens = Callable[[Sequence[tuple[int, bytes, bytes]]], Awaitable[int]]


async def rotate_tokens(
    cipher: CredentialCipher, read_page: ReadPage, swap: SwapTokens, batch_size: int
) -> RotationReport:
    """The rotation both backends run, over their own page reader and token swapper.

    Each batch is one short transaction, so a running bot's reads and writes wait for a few
    milliseconds at most. A row is rewritten only if it still holds the token that was read:
    a put, delete or move that lands in between wins, and the row is looked at again on the
    next pass. Passes repeat until one finds nothing to rewrite; that last pass is what proves
    every row is on the first key. If a process keeps writing with an old key, that never
    happens, and the report says the rotation is not complete.
    """
    rotated = already_current = 0
    undecryptable: list[int] = []
    for pass_number in range(ROTATION_PASSES):
        attempted = 0
        undecryptable = []
        after: int | None = None
        while page := await read_page(after, batch_size):
            after = page[-1][0]
            swaps = []
            for chat_id, token in page:
                if cipher.is_current(token):
                    if pass_number == 0:
                        already_current += 1
                    continue
                try:
                    swaps.append((chat_id, token, cipher.rotate(token)))
                except WrongEncryptionKey:
                    undecryptable.append(chat_id)
            if swaps:
                attempted += len(swaps)
                rotated += await swap(swaps)
        if not attempted:
            return RotationReport(rotated, already_current, tuple(undecryptable), complete=True)
    return RotationReport(rotated, already_current, tuple(undecryptable), complete=False)


def credentials_from_row(
    cipher: CredentialCipher,
    *,
    chat_id: int,
    tracker_url: str,
    api_key_encrypted: bytes,
    connected_by_id: int | None,
    connected_by_name: str,
    connected_at: datetime,
    verify_tls: bool = True,
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
        verify_tls=bool(verify_tls),
    )
