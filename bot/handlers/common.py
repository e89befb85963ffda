"""Small helpers shared by the handlers: language, replies, arguments, admin checks."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict

from telegram import (
    Bot,
    Chat,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, ChatMigrated, TelegramError
from telegram.ext import ContextTypes

from bot.i18n import Lang, current_language, language_for

log = logging.getLogger(__name__)

_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def lang_of(update: Update) -> Lang:
    """The language to answer this update in: the chat's /language choice if it made one,
    else the user's Telegram language (both resolved once per update, see current_language)."""
    current = current_language.get()
    if current is not None:
        return current
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


# Bot answers to user messages, (chat id, message id) -> the answer's message ids, so that an
# edited command replaces its answer. In memory only: after a restart, an edit gets a new reply.
_ANSWERS = "answers"
REMEMBERED_ANSWERS = 5000
# What Telegram says when the place to reply to is gone: a closed or deleted forum topic, or a
# deleted command message (when it is quoted without allow_sending_without_reply).
_PLACE_GONE = ("topic_closed", "topic_deleted", "thread not found", "replied not found")


async def reply(
    message: Message,
    parts: str | list[str],
    *,
    quote: bool | None = None,
    buttons: InlineKeyboardMarkup | None = None,
    context: ContextTypes.DEFAULT_TYPE | None = None,
) -> None:
    """Send one reply (maybe in several messages) into the chat and topic of ``message``.

    ``buttons`` go under the last message. The answer is not lost when its place is: in a closed
    or deleted topic, or quoting a deleted message, it goes to the chat without thread or quote;
    to a group that became a supergroup, it goes to the new chat (and, given ``context``, the
    chat's connection moves with it). Given ``context``, an edited command's earlier answer is
    edited into the new one instead of a second answer being posted.
    """
    texts = [parts] if isinstance(parts, str) else parts
    answers = _answers(context) if context is not None and _from_a_person(message) else None
    key = (message.chat_id, message.message_id)
    earlier = answers.pop(key, []) if answers is not None and message.edit_date else []
    sent: list[int] = []
    for number, text in enumerate(texts):
        markup = buttons if number == len(texts) - 1 else None
        if number < len(earlier) and await _edit(message, earlier[number], text, markup):
            sent.append(earlier[number])
            continue
        answer = await _send(message, text, quote, markup, context)
        if answer.chat_id == message.chat_id:
            sent.append(answer.message_id)
    bot = message.get_bot()
    for extra in earlier[len(texts) :]:  # the earlier answer had more parts than this one
        try:
            await bot.delete_message(message.chat_id, extra)
        except TelegramError as error:
            log.info("chat %s: could not delete answer %s: %s", message.chat_id, extra, error)
    if answers is not None:
        answers[key] = sent
        while len(answers) > REMEMBERED_ANSWERS:
            answers.popitem(last=False)


def _moved_buttons(
    markup: InlineKeyboardMarkup | None, old: int, new: int
) -> InlineKeyboardMarkup | None:
    """Buttons whose data names the old chat id (``pb:r:<chat>:<id>``) act in the new chat."""
    if markup is None:
        return None
    rows = [
        [
            InlineKeyboardButton(
                button.text,
                callback_data=button.callback_data.replace(f":{old}:", f":{new}:"),
            )
            if isinstance(button.callback_data, str)
            else button
            for button in row
        ]
        for row in markup.inline_keyboard
    ]
    return InlineKeyboardMarkup(rows)


def _answers(context: ContextTypes.DEFAULT_TYPE) -> OrderedDict[tuple[int, int], list[int]]:
    found = context.bot_data.setdefault(_ANSWERS, OrderedDict())
    assert isinstance(found, OrderedDict)
    return found


def _from_a_person(message: Message) -> bool:
    """Not the bot's own message (a button's), whose edits are the bot's own doing."""
    return message.from_user is None or message.from_user.id != message.get_bot().id


async def _send(
    message: Message,
    text: str,
    quote: bool | None,
    markup: InlineKeyboardMarkup | None,
    context: ContextTypes.DEFAULT_TYPE | None,
) -> Message:
    try:
        return await message.reply_text(text, do_quote=quote, reply_markup=markup)
    except ChatMigrated as error:
        old, new = message.chat_id, error.new_chat_id
        if context is not None:
            # Imported here: the migration handler itself answers through this module.
            from bot.handlers.migration import move_chat

            await move_chat(context, old, new)
        log.info("chat %s became supergroup %s: answering there", old, new)
        return await message.get_bot().send_message(
            new, text, reply_markup=_moved_buttons(markup, old, new)
        )
    except BadRequest as error:
        if not any(reason in error.message.lower() for reason in _PLACE_GONE):
            raise
        log.info("chat %s: %s; answering without topic or quote", message.chat_id, error.message)
        return await message.get_bot().send_message(message.chat_id, text, reply_markup=markup)


async def _edit(
    message: Message, answer_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> bool:
    """Edit an earlier answer; False when it cannot be edited (deleted, too old)."""
    try:
        await message.get_bot().edit_message_text(
            text, message.chat_id, answer_id, reply_markup=markup
        )
    except BadRequest as error:
        if "not modified" in error.message.lower():
            return True
        log.info("chat %s: could not edit answer %s: %s", message.chat_id, answer_id, error)
        return False
    return True


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
    if update.callback_query is not None:
        # A button press: whoever pressed it, not the bot whose message holds the button.
        return await is_admin_member(context.bot, chat.id, update.callback_query.from_user.id)
    if message.is_automatic_forward or message.forward_origin is not None:
        return False
    if message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    user = message.from_user
    if user is None:
        return False
    return await is_admin_member(context.bot, chat.id, user.id)


async def is_admin_member(bot: Bot, chat_id: int, user_id: int) -> bool:
    """Whether Telegram says this user is the chat's creator or one of its administrators."""
    member = await bot.get_chat_member(chat_id, user_id)
    return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)
