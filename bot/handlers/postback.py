"""/postback <id>: look a postback up on the chat's tracker."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telegram import Chat, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot import views
from bot.handlers.common import argument_text, is_group, lang_of, parse_id, reply
from bot.i18n import t
from bot.services import services
from keitaro_api import KeitaroError, PostbackNotFound, Tracker, display_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """One lookup for a chat: what to say, the buttons under it and the record behind it."""

    parts: list[str]
    buttons: InlineKeyboardMarkup | None
    found: bool
    record: dict[str, Any] | None  # None: the chat has no tracker to ask


async def postback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    lang = lang_of(update)
    postback_id = parse_id(argument_text(message), views.MAX_POSTBACK_ID)
    if postback_id is None:
        usage = t(lang, "postback.usage", max_id=views.MAX_POSTBACK_ID)
        await reply(message, usage, context=context)
        return
    answer = await look_up(context, chat, lang, postback_id)
    await reply(message, answer.parts, buttons=answer.buttons, context=context)


async def look_up(
    context: ContextTypes.DEFAULT_TYPE, chat: Chat, lang: str, postback_id: int
) -> Answer:
    """Ask the chat's tracker for the postback, now: /postback and its buttons all come here."""
    found = services(context)
    creds = await found.store.get(chat.id)
    if creds is None:
        key = "postback.not_connected_group" if is_group(chat) else "postback.not_connected"
        return Answer([t(lang, key)], None, found=False, record=None)

    tracker = Tracker(root=creds.tracker_url, api_key=creds.api_key, verify_tls=creds.verify_tls)
    shown = display_url(creds.tracker_url)
    retry = views.postback_buttons(lang, chat.id, postback_id, failed=True)
    try:
        lookup = await found.client.lookup_postback(tracker, postback_id)
    except PostbackNotFound as error:
        text = t(lang, "postback.not_found", id=postback_id, tracker=shown)
        record = views.details_record(error.request, None, error)
        return Answer([text], retry, found=False, record=record)
    except KeitaroError as error:
        log.info("chat %s: postback %s on %s failed: %r", chat.id, postback_id, shown, error)
        text = views.error_text(lang, error, found.settings.keitaro_timeout)
        record = views.details_record(error.request, None, error)
        return Answer([text], retry, found=False, record=record)
    return Answer(
        views.postback_reply(lang, lookup, shown),
        views.postback_buttons(lang, chat.id, postback_id),
        found=True,
        record=views.details_record(lookup.request, lookup),
    )
