"""No secret survives into a log line, whatever logged it."""

from __future__ import annotations

import logging
import sys

import pytest

from bot.logs import REDACTED, RedactingFormatter, configure_logging, redact

TOKEN = "123456:AAE-secret-token-value"


def test_token_connect_arguments_and_key_headers_are_removed():
    line = (
        f"POST https://api.telegram.org/bot{TOKEN}/getUpdates "
        "{'text': '/connect https://t.example.com SECRETKEY123'} "
        "headers={'Api-Key': 'SECRETKEY123', 'Authorization': 'Bearer SECRETKEY123'}"
    )
    cleaned = redact(line, [TOKEN])
    assert TOKEN not in cleaned and "SECRETKEY123" not in cleaned
    assert "'/connect [redacted]'" in cleaned


def test_swapped_connect_arguments_are_redacted_too():
    cleaned = redact("{'text': '/connect SECRETKEY123 https://t.example.com'}", [])
    assert "SECRETKEY123" not in cleaned and cleaned == "{'text': '/connect [redacted]'}"


def test_connect_addressed_to_the_bot_is_redacted_too():
    assert "KEY" not in redact("/connect@KeitaroBot\nhttps://t.example\nKEY", [])


def test_tracebacks_are_redacted():
    formatter = RedactingFormatter("%(message)s", [TOKEN])
    try:
        raise RuntimeError(f"failed calling https://api.telegram.org/bot{TOKEN}/sendMessage")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, None)
        record.exc_info = sys.exc_info()
    output = formatter.format(record)
    assert "RuntimeError" in output and TOKEN not in output and REDACTED in output


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    names = ("bot", "httpx", "httpcore", "telegram", "aiosqlite", "asyncio")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:], root.level = handlers, level
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


@pytest.mark.usefixtures("restore_logging")
def test_debug_level_does_not_open_up_libraries_that_log_secrets():
    configure_logging("DEBUG", [TOKEN])
    assert logging.getLogger("bot").getEffectiveLevel() == logging.DEBUG
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("telegram").getEffectiveLevel() >= logging.INFO
