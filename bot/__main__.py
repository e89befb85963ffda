"""`python -m bot` / `keitaro-bot`: settings -> logging -> application -> long polling."""

from __future__ import annotations

import logging
import sys

from pydantic import ValidationError
from telegram import Update

from bot.app import build_application
from bot.config import Settings
from bot.logs import configure_logging


def main() -> int:
    try:
        settings = Settings()  # type: ignore[call-arg]
    except ValidationError as error:
        fields = ", ".join(".".join(map(str, e["loc"])).upper() for e in error.errors())
        print(
            f"keitaro-bot: invalid or missing settings: {fields} (see README.md)", file=sys.stderr
        )
        return 2
    token = settings.telegram_bot_token.get_secret_value()
    configure_logging(settings.log_level, secrets=[token])
    log = logging.getLogger("bot")
    try:
        build_application(settings).run_polling(
            allowed_updates=Update.ALL_TYPES,
            bootstrap_retries=-1,  # ride out a network blip at start-up instead of exiting
        )
    except Exception as error:  # a clear last word instead of a crash loop with a traceback
        log.critical("the bot stopped: %s", error, exc_info=log.isEnabledFor(logging.DEBUG))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
