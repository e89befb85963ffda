"""Logging set-up: readable lines, and no secret in any of them at any level."""

from __future__ import annotations

import logging
import re
import sys

# Third-party loggers that print raw updates, request URLs (which hold the bot token) or SQL
# parameters at DEBUG: they never go below these levels, whatever LOG_LEVEL says.
_QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,
    "aiosqlite": logging.INFO,
    "asyncio": logging.INFO,
}

# Everything after /connect, in whichever order or on whichever lines the arguments came.
_CONNECT_ARGS = re.compile(r"(/connect(?:@\w+)?)\s[^'\"]*", re.IGNORECASE)
_KEY_HEADER = re.compile(
    r"((?:api-key|authorization)['\"]?\s*[:=]\s*['\"]?(?:bearer\s+)?)[^'\"\s,}]+", re.I
)
REDACTED = "[redacted]"


class RedactingFormatter(logging.Formatter):
    """Formats a record, traceback included, then removes the bot token and any API key."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self._secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self._secrets)


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    text = _CONNECT_ARGS.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _KEY_HEADER.sub(lambda m: m.group(1) + REDACTED, text)


def configure_logging(level: str, secrets: list[str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    numeric = logging.getLevelName(level)
    for name, floor in _QUIET.items():
        logging.getLogger(name).setLevel(max(floor, numeric))
    # Its DEBUG lines are the only sign of "Telegram does not answer yet"; they hold no secret.
    logging.getLogger("telegram.ext._utils.networkloop").setLevel(numeric)
