"""Every knob of the bot in one place, read from the environment and `.env`."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.crypto import default_key_file

DEFAULT_DATABASE_URL = "sqlite:///data/keitaro-bot.sqlite3"
_CHAT_ID = re.compile(r"-?[0-9]{1,20}", re.ASCII)


def _split_ids(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr = Field(description="Token from @BotFather.")
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot",
        description="Bot API endpoint; the token is appended. Point it at a local Bot API server.",
    )
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite:///relative.db, sqlite:////absolute.db or postgresql://...",
    )
    credentials_encryption_key: SecretStr | None = Field(
        default=None,
        description="Fernet key(s), comma-separated, newest first. Generated beside the "
        "database on first start when unset.",
    )
    encryption_key_file: str | None = Field(
        default=None, description="Where the generated key lives (default: beside the database)."
    )
    keitaro_allow_private_hosts: bool = Field(
        default=False, description="Allow trackers on loopback or private addresses."
    )
    keitaro_allow_unverified_tls: bool = Field(
        default=False,
        description="Let chat admins trust a tracker's self-signed TLS certificate "
        "(/connect <url> <key> insecure).",
    )
    keitaro_timeout: float = Field(default=15.0, gt=0, le=120)
    setup_link_ttl_seconds: float = Field(
        default=600.0,
        gt=0,
        le=86_400,
        description="How long a private group-setup link (from /connect in a group) works.",
    )
    allowed_chat_ids: str = Field(
        default="",
        description="Comma-separated chat ids the bot serves (a user's id is their private "
        "chat). Empty: every chat.",
    )
    log_level: str = Field(default="INFO")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if not isinstance(logging.getLevelName(level), int):
            raise ValueError(f"unknown log level {value!r}")
        return level

    @field_validator("allowed_chat_ids")
    @classmethod
    def _chat_ids(cls, value: str) -> str:
        for item in _split_ids(value):
            if not _CHAT_ID.fullmatch(item):
                raise ValueError(f"not a chat id: {item!r}")
        return value

    @property
    def configured_keys(self) -> str | None:
        """The Fernet keys from CREDENTIALS_ENCRYPTION_KEY, or None (blank counts as unset)."""
        keys = self.credentials_encryption_key
        value = keys.get_secret_value() if keys else ""
        return value if value.strip() else None

    @property
    def key_file(self) -> Path:
        """Where the encryption key lives when it is not configured: ENCRYPTION_KEY_FILE, else
        beside the SQLite database (./keitaro-bot.key with PostgreSQL)."""
        if self.encryption_key_file:
            return Path(self.encryption_key_file)
        return default_key_file(self.database_url)

    @property
    def allowed_chats(self) -> frozenset[int] | None:
        """The chats the bot serves, or None when it serves every chat."""
        return frozenset(int(item) for item in _split_ids(self.allowed_chat_ids)) or None

    @field_validator("telegram_api_base_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        # PTB appends the token directly: ".../bot/" would become ".../bot/123:ABC" (a 404).
        return value.strip().rstrip("/")
