"""ALLOWED_CHAT_IDS: a private bot answers only the chats its operator listed."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.handlers.common import argument_text, delete_quietly, lang_of, reply
from bot.handlers.connection import may_hold_key
from bot.i18n import t
from bot.services import services

log = logging.getLogger(__name__)


async def only_allowed_chats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every handler; stops updates from chats that are not allowed."""
    allowed = services(context).settings.allowed_chats
    chat = update.effective_chat
    if allowed is None or chat is None or chat.id in allowed:
        return
    message = update.effective_message
    # Answer commands only, so an unlisted group is not flooded with refusals.
    if message is not None and message.text and message.text.startswith("/"):
        log.info("refused an update from chat %s: not in ALLOWED_CHAT_IDS", chat.id)
        command = message.text.split()[0].split("@")[0].lower()
        holds_key = command == "/connect" and may_hold_key(argument_text(message).split())
        deleted = holds_key and await delete_quietly(message)
        await reply(
            message,
            t(lang_of(update), "access.private", chat_id=chat.id),
            quote=False if deleted else None,
        )
    raise ApplicationHandlerStop
