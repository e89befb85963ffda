"""/start and /help."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.common import lang_of, reply
from bot.i18n import t


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await reply(update.effective_message, t(lang_of(update), "help"))


async def unknown_in_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A private message the bot has no answer for: say so instead of staying silent."""
    if update.effective_message is not None:
        await reply(update.effective_message, t(lang_of(update), "unknown.command"))
