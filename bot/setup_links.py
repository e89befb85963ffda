"""Private group setup: single-use deep links, each bound to one group and one admin.

An admin's ``/connect`` in a group issues a link; opening it in a private chat with the bot
redeems it and starts a setup there, which lasts until it succeeds, is cancelled or times out.
Everything lives in memory: a restart voids every pending link and setup.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from pydantic import SecretStr

DEFAULT_TTL_SECONDS = 600.0
TOKEN_BYTES = 24  # 32 characters of [A-Za-z0-9_-]; deep links allow up to 64


@dataclass(frozen=True)
class Group:
    """The group a link sets up, and where in it the admin asked."""

    id: int
    title: str
    thread_id: int | None  # the forum topic /connect was sent in


@dataclass
class _Link:
    group: Group
    user_id: int
    expires_at: float
    used: bool = False


@dataclass
class Setup:
    """A setup in progress in one admin's private chat."""

    group: Group
    expires_at: float
    # What the admin has sent so far, when they send the address and the key separately.
    tracker_url: str | None = None
    api_key: SecretStr | None = None


class LinkRefused(Enum):
    UNKNOWN = "unknown"  # never issued, mistyped, or issued before a restart
    NOT_YOURS = "not_yours"  # issued to another user
    USED = "used"
    EXPIRED = "expired"


class SetupLinks:
    """Links and the setups they started, keyed by token and by user id."""

    def __init__(
        self, ttl: float = DEFAULT_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._links: dict[str, _Link] = {}
        self._setups: dict[int, Setup] = {}

    def issue(self, group: Group, user_id: int) -> str:
        """A new unguessable token that only ``user_id`` can redeem, once, within the TTL."""
        self._forget_stale()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        self._links[token] = _Link(group, user_id, self._clock() + self.ttl)
        return token

    def redeem(self, token: str, user_id: int) -> Setup | LinkRefused:
        """Use the link up and start its setup, replacing any setup the user had going.

        Someone else's attempt does not use the link up: its admin can still open it.
        """
        self._forget_stale()
        link = self._links.get(token)
        if link is None:
            return LinkRefused.UNKNOWN
        if link.user_id != user_id:
            return LinkRefused.NOT_YOURS
        if link.used:
            return LinkRefused.USED
        now = self._clock()
        if now >= link.expires_at:
            return LinkRefused.EXPIRED
        link.used = True
        setup = self._setups[user_id] = Setup(link.group, now + self.ttl)
        return setup

    def setup_of(self, user_id: int) -> Setup | None:
        """The user's setup in progress, even a timed-out one (``timed_out`` tells)."""
        return self._setups.get(user_id)

    def timed_out(self, setup: Setup) -> bool:
        return self._clock() >= setup.expires_at

    def finish(self, user_id: int) -> Setup | None:
        """End the user's setup (done or cancelled); the setup it was, if any."""
        return self._setups.pop(user_id, None)

    def _forget_stale(self) -> None:
        # A used or expired link is kept one more TTL, so that opening it again is answered
        # "used" or "expired" rather than "unknown"; then it goes, and memory stays bounded.
        now = self._clock()
        for token in [t for t, link in self._links.items() if now >= link.expires_at + self.ttl]:
            del self._links[token]
        for user_id in [u for u, s in self._setups.items() if now >= s.expires_at + self.ttl]:
            del self._setups[user_id]
