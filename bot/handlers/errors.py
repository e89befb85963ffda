"""The one error handler: log first (without secrets), then tell the user."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.crypto import WrongEncryptionKey
from bot.handlers.common import lang_of
from bot.i18n import t

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Never log the update itself: a /connect message holds an API key.
    chat_id = (
        update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None
    )
    if isinstance(context.error, Forbidden):
        # Blocked, removed or deleted: telling them is impossible, and nothing is retried. One
        # line, no traceback: it is the chat's choice, not a bug.
        log.warning("chat %s cannot be written to: %s", chat_id, context.error)
        return
    log.error("error while handling an update for chat %s", chat_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    if update.callback_query is not None:  # so the button does not spin until it times out
        try:
            await update.callback_query.answer(t(lang_of(update), "error.internal"))
        except TelegramError as error:
            log.warning("could not answer a button in chat %s: %s", chat_id, error)
        return
    if update.effective_message is None:
        return
    # A key stored under an encryption key the bot no longer has is the operator's to fix.
    problem = "error.key_unreadable" if isinstance(context.error, WrongEncryptionKey) else None
    try:
        await update.effective_message.reply_text(
            t(lang_of(update), problem or "error.internal"), do_quote=False
        )
    except TelegramError as error:
        log.warning("could not tell chat %s about the error: %s", chat_id, error)
