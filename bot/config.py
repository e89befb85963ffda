"""Every knob of the bot in one place, read from the environment and `.env`."""

from __future__ import annotations

import logging

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///data/keitaro-bot.sqlite3"


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
    keitaro_timeout: float = Field(default=15.0, gt=0, le=120)
    log_level: str = Field(default="INFO")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if not isinstance(logging.getLevelName(level), int):
            raise ValueError(f"unknown log level {value!r}")
        return level

    @field_validator("telegram_api_base_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()
