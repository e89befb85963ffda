"""/language: a chat's reply language, and the language each update is answered in.

Every update first passes :func:`use_chat_language` (handler group -2, before the access
check), which sets :data:`bot.i18n.current_language` for that update: the chat's own choice if
it made one, else the user's Telegram language. ``common.lang_of`` reads it, so no other handler
needs to know about chat languages.
"""

from __future__ import annotations

import asyncio
import logging
from typing import cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.handlers.common import argument_text, is_chat_admin, lang_of, reply
from bot.i18n import LANGUAGES, Lang, current_language, language_for, t
from bot.services import services
from bot.storage import CredentialStore

log = logging.getLogger(__name__)

AUTO = "auto"
CHOICES = (*LANGUAGES, AUTO)
BUTTON_PREFIX = "language:"
BUTTON_PATTERN = rf"^{BUTTON_PREFIX}({'|'.join(CHOICES)})$"
_CACHE_KEY = "chat_languages"


class ChatLanguages:
    """Every chat's language choice, read from the store once, then kept in step with it.

    Only chats that chose a language are held, so the map stays small; every update reads it,
    and none of them waits for the database once it is loaded. A failed load is not kept: the
    next update tries again.
    """

    def __init__(self) -> None:
        self._chosen: dict[int, Lang] | None = None
        self._loading = asyncio.Lock()

    async def get(self, store: CredentialStore, chat_id: int) -> Lang | None:
        return (await self._loaded(store)).get(chat_id)

    async def set(self, store: CredentialStore, chat_id: int, language: Lang | None) -> None:
        """Store the chat's choice (None: each user's own language) and use it from now on."""
        chosen = await self._loaded(store)
        await store.set_language(chat_id, language)
        if language is None:
            chosen.pop(chat_id, None)
        else:
            chosen[chat_id] = language

    def moved(self, old_chat_id: int, new_chat_id: int) -> None:
        """Follow the store's move of a group's settings to its supergroup."""
        if self._chosen is not None and old_chat_id in self._chosen:
            self._chosen[new_chat_id] = self._chosen.pop(old_chat_id)

    async def _loaded(self, store: CredentialStore) -> dict[int, Lang]:
        if self._chosen is None:
            async with self._loading:
                if self._chosen is None:
                    stored = await store.languages()
                    # A language this version has no catalogue for counts as no choice.
                    self._chosen = {
                        chat: cast(Lang, lang) for chat, lang in stored.items() if lang in LANGUAGES
                    }
        return self._chosen


def chat_languages(context: ContextTypes.DEFAULT_TYPE) -> ChatLanguages:
    found = context.bot_data.get(_CACHE_KEY)
    if not isinstance(found, ChatLanguages):
        found = context.bot_data[_CACHE_KEY] = ChatLanguages()
    return found


async def use_chat_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs first for every update: fixes the language this update is answered in."""
    user = update.effective_user
    # The user's own language first, so that even if the store cannot be read, this update
    # never keeps a language from whatever ran before it in the same context.
    current_language.set(language_for(user.language_code if user else None))
    chat = update.effective_chat
    if chat is None:
        return
    try:
        chosen = await chat_languages(context).get(services(context).store, chat.id)
    except Exception:
        # The handlers that need the store will say it failed; this update is still answered,
        # in the user's own language.
        log.exception("could not read the language of chat %s", chat.id)
        return
    if chosen is not None:
        current_language.set(chosen)


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/language en|ru|auto`` sets it; ``/language`` alone shows it, with buttons to choose."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    lang = lang_of(update)
    args = argument_text(message).split()
    if not args:
        chosen = await chat_languages(context).get(services(context).store, chat.id)
        current = t(chosen, "language.name") if chosen else t(lang, "language.auto")
        await reply(message, t(lang, "language.current", current=current), buttons=_buttons(lang))
        return
    choice = args[0].lower()
    if len(args) != 1 or choice not in CHOICES:
        await reply(message, t(lang, "language.usage"))
        return
    if not await is_chat_admin(update, context):
        await reply(message, t(lang, "language.admins_only"))
        return
    await reply(message, await _choose(update, context, choice))


async def language_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press on one of the buttons under ``/language``: the same as typing the choice."""
    query = update.callback_query
    if query is None or query.data is None or update.effective_chat is None:
        return
    if not await is_chat_admin(update, context):
        await query.answer(t(lang_of(update), "language.admins_only"), show_alert=True)
        return
    text = await _choose(update, context, query.data.removeprefix(BUTTON_PREFIX))
    await query.answer()
    try:
        await query.edit_message_text(text)
    except BadRequest as error:  # pressed twice: "message is not modified"
        log.info("could not edit the /language message: %s", error)


async def _choose(update: Update, context: ContextTypes.DEFAULT_TYPE, choice: str) -> str:
    """Store the chat's choice and say so, in the language it now answers in."""
    chat = update.effective_chat
    assert chat is not None
    language: Lang | None = None if choice == AUTO else language_for(choice)
    await chat_languages(context).set(services(context).store, chat.id, language)
    log.info("chat %s language: %s", chat.id, choice)
    # This update, too, is answered in the new language from here on.
    user = update.effective_user
    current_language.set(language or language_for(user.language_code if user else None))
    lang = lang_of(update)
    return t(lang, "language.auto_set") if language is None else t(lang, "language.set")


def _buttons(lang: Lang) -> InlineKeyboardMarkup:
    """One button per language, named in that language, and "Auto" in the user's."""
    choices: list[tuple[str, str]] = [(t(code, "language.name"), code) for code in LANGUAGES]
    choices.append((t(lang, "language.auto_button"), AUTO))
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=BUTTON_PREFIX + code)]
            for label, code in choices
        ]
    )
