"""`python -m bot` / `keitaro-bot`: run the bot, or manage the encryption keys.

python -m bot                 settings -> logging -> application -> long polling
python -m bot generate-key    print a new key, for CREDENTIALS_ENCRYPTION_KEY
python -m bot add-key         put a new key first in the key file, keeping the old ones
python -m bot rotate-key      re-encrypt every stored API key with the first key
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from pydantic import SecretStr, ValidationError
from telegram import Update
from telegram.error import InvalidToken

from bot.app import build_application
from bot.config import Settings
from bot.crypto import (
    InvalidEncryptionKey,
    add_key_to_file,
    generate_key,
    load_cipher,
)
from bot.logs import configure_logging
from bot.storage import RotationReport, open_store

PROG = "keitaro-bot"
SHOWN_CHATS = 20  # of the chats whose credentials could not be rotated
S = TypeVar("S", bound="Settings")


class KeySettings(Settings):
    """What the key commands read: the same settings as the bot's, but no bot token needed."""

    telegram_bot_token: SecretStr | None = None  # type: ignore[assignment]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command: Callable[[], int] = args.command
    return command()


def run_bot() -> int:
    settings = _settings(Settings)
    if settings is None:
        return 2
    token = settings.telegram_bot_token.get_secret_value()
    configure_logging(settings.log_level, secrets=[token])
    log = logging.getLogger("bot")
    log.info(
        "starting: Bot API at %s; waiting for Telegram to answer", settings.telegram_api_base_url
    )
    try:
        build_application(settings).run_polling(
            allowed_updates=Update.ALL_TYPES,
            bootstrap_retries=-1,  # ride out a network blip at start-up instead of exiting
        )
    except InvalidToken:
        log.critical(
            "the bot stopped: Telegram rejected the token, or TELEGRAM_API_BASE_URL (%s) is not "
            "a Bot API endpoint",
            settings.telegram_api_base_url,
        )
        return 1
    except Exception as error:  # a clear last word instead of a crash loop with a traceback
        log.critical("the bot stopped: %s", error, exc_info=log.isEnabledFor(logging.DEBUG))
        return 1
    return 0


def print_new_key() -> int:
    print(generate_key().decode())
    return 0


def add_key() -> int:
    settings = _settings(KeySettings)
    if settings is None:
        return 2
    if settings.configured_keys is not None:
        return _fail(
            "the keys come from CREDENTIALS_ENCRYPTION_KEY, not from a key file. Generate a "
            f"key with `{PROG} generate-key` and put it first there: CREDENTIALS_ENCRYPTION_KEY"
            "=new,old. Then restart the bot and run rotate-key."
        )
    key_file = settings.key_file
    try:
        count = add_key_to_file(key_file, generate_key())
    except FileNotFoundError:
        return _fail(
            f"there is no key file at {key_file}, so there are no keys to add one to. Nothing "
            "was changed. (The bot creates the key file on its first start.)"
        )
    except InvalidEncryptionKey as error:
        return _fail(str(error))
    print(
        f"Added a new encryption key first in {key_file}; it now holds {count} keys (mode "
        "0600). The new key encrypts, all of them decrypt. Next: restart every running bot, "
        f"so that it reads the new key, then run `{PROG} rotate-key`."
    )
    return 0


def rotate_key() -> int:
    settings = _settings(KeySettings)
    if settings is None:
        return 2
    key_file = settings.key_file
    try:
        cipher = load_cipher(settings.configured_keys, key_file)
    except InvalidEncryptionKey as error:
        return _fail(str(error))
    if cipher is None:
        # Never generate a key here: rotating to a key nobody has would lose every credential.
        return _fail(
            f"no encryption key: CREDENTIALS_ENCRYPTION_KEY is unset and there is no key file "
            f"at {key_file}. Nothing was changed."
        )

    async def rotate() -> RotationReport:
        store = open_store(settings.database_url, cipher)
        await store.open()
        try:
            return await store.rotate()
        finally:
            await store.close()

    try:
        report = asyncio.run(rotate())
    except Exception as error:
        return _fail(
            f"the rotation stopped: {error}. Rows rotated so far decrypt with the configured "
            "keys; run rotate-key again.",
            code=1,
        )
    print(
        f"Re-encrypted {report.rotated} stored credential(s) with the first of "
        f"{cipher.key_count} key(s); {report.already_current} already used it."
    )
    if report.undecryptable:
        shown = report.undecryptable[:SHOWN_CHATS]
        more = len(report.undecryptable) - len(shown)
        chats = ", ".join(map(str, shown)) + (f" and {more} more" if more else "")
        print(
            f"{len(report.undecryptable)} credential(s) do not decrypt with any configured key "
            f"and were left as they were (chats {chats}). Add the key they were saved with "
            "after the first one and run rotate-key again, or have those chats /connect again.",
            file=sys.stderr,
        )
    if not report.complete:
        print(
            "Credentials kept being written with an old key while rotating: some bot still runs "
            "without the new key. Restart every bot with the new key first, then run "
            "rotate-key again.",
            file=sys.stderr,
        )
    if report.ok:
        print(
            "Every stored credential now decrypts with the first key alone. Once every bot runs "
            "with it, the old key(s) after it may be removed."
        )
    return 0 if report.ok else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Telegram bot that looks up Keitaro postbacks. Without a command, runs it.",
    )
    parser.set_defaults(command=run_bot)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    commands.add_parser("run", help="run the bot (the default)").set_defaults(command=run_bot)
    commands.add_parser(
        "generate-key", help="print a new encryption key, for CREDENTIALS_ENCRYPTION_KEY"
    ).set_defaults(command=print_new_key)
    commands.add_parser(
        "add-key",
        help="put a new key first in the key file, keeping the old ones after it",
    ).set_defaults(command=add_key)
    commands.add_parser(
        "rotate-key",
        help="re-encrypt every stored API key with the first configured key; safe while the "
        "bot runs, once it has been restarted with the new key",
    ).set_defaults(command=rotate_key)
    return parser


def _settings(kind: type[S]) -> S | None:
    try:
        return kind()  # type: ignore[call-arg]
    except ValidationError as error:
        fields = ", ".join(".".join(map(str, e["loc"])).upper() for e in error.errors())
        print(f"{PROG}: invalid or missing settings: {fields} (see README.md)", file=sys.stderr)
        return None


def _fail(message: str, code: int = 2) -> int:
    """Exit code 2: refused, nothing was changed; 1: a rotation that did not finish."""
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
