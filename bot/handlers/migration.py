"""A group upgraded to a supergroup gets a new chat id: its connection follows it."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.language import chat_languages
from bot.services import services

log = logging.getLogger(__name__)


async def follow_migration(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Telegram sends two service messages, one in each chat; whichever comes first moves the
    # credentials and the other finds nothing left to move.
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat_id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat_id
    else:
        return
    await move_chat(context, old, new)


async def move_chat(context: ContextTypes.DEFAULT_TYPE, old: int, new: int) -> None:
    """Everything stored for a group moves to the supergroup it became: connection, language."""
    moved = await services(context).store.move(old, new)
    chat_languages(context).moved(old, new)  # the store moved its language, if it had one
    if moved:
        log.info("chat %s became supergroup %s: its tracker connection moved with it", old, new)
