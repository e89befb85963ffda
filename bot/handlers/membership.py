"""The bot's own membership: removed from a group, or blocked by a user.

A group that removed the bot loses its stored connection: nobody there can use it any more, and
the key should not outlive the bot's place in the group. A blocked private chat keeps its
connection (unblocking restores it) and is only logged.
"""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.ext import ContextTypes

from bot.handlers.common import is_group
from bot.services import services

log = logging.getLogger(__name__)

_GONE = (ChatMember.LEFT, ChatMember.BANNED)


async def membership_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    change = update.my_chat_member
    if change is None:
        return
    chat, old, new = change.chat, change.old_chat_member.status, change.new_chat_member.status
    if new not in _GONE:
        if old in _GONE:
            log.info("chat %s: the bot is back (%s)", chat.id, new)
        return
    if not is_group(chat):
        log.info("chat %s: the user blocked the bot; nothing goes there until unblocked", chat.id)
        return
    deleted = await services(context).store.delete(chat.id)
    log.info(
        "chat %s: the bot was removed (%s)%s",
        chat.id,
        new,
        "; its tracker connection is deleted" if deleted else "",
    )
