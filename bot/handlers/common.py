"""Small helpers shared by the handlers: language, replies, arguments, admin checks."""

from __future__ import annotations

import logging
import re

from telegram import Chat, ChatMember, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.i18n import Lang, language_for

log = logging.getLogger(__name__)

_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def lang_of(update: Update) -> Lang:
    user = update.effective_user
    return language_for(user.language_code if user else None)


def is_group(chat: Chat) -> bool:
    return chat.type in (Chat.GROUP, Chat.SUPERGROUP)


def argument_text(message: Message) -> str:
    """Everything after the command itself (``/cmd`` or ``/cmd@Bot``), untouched."""
    text = message.text or ""
    entity = next((e for e in message.entities if e.offset == 0 and e.type == "bot_command"), None)
    if entity is None:
        return ""
    # Entity offsets count UTF-16 units; a command is ASCII, so it is the same in characters.
    return text[entity.length :]


def parse_id(raw: str, maximum: int) -> int | None:
    """A strictly positive id written with ASCII digits only, whitespace around allowed."""
    candidate = raw.strip()
    if not _DIGITS.fullmatch(candidate):
        return None
    significant = candidate.lstrip("0")
    if len(significant) > len(str(maximum)):  # also keeps int() away from huge inputs
        return None
    value = int(significant or "0")
    return value if 1 <= value <= maximum else None


async def reply(message: Message, parts: str | list[str], *, quote: bool | None = None) -> None:
    """Send one reply (maybe in several messages) into the chat and topic of ``message``."""
    for part in [parts] if isinstance(parts, str) else parts:
        await message.reply_text(part, do_quote=quote)


async def delete_quietly(message: Message) -> bool:
    """Delete a message; False when Telegram refuses (no right, too old, already gone)."""
    try:
        return await message.delete()
    except TelegramError as error:
        log.info("could not delete message %s in chat %s: %s", message.id, message.chat_id, error)
        return False


async def is_chat_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether the sender may change this chat's connection.

    Anyone in a private chat. In a group: its creator and administrators, including an
    anonymous admin posting as the group itself. Not a channel posting into the group, not an
    automatic forward from a linked channel, not a forwarded message.
    """
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None:
        return False
    if chat.type == Chat.PRIVATE:
        return True
    if message.is_automatic_forward or message.forward_origin is not None:
        return False
    if message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    user = message.from_user
    if user is None:
        return False
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)
