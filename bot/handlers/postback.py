"""/postback <id>: look a postback up on the chat's tracker."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot import views
from bot.handlers.common import argument_text, is_group, lang_of, parse_id, reply
from bot.i18n import t
from bot.services import services
from keitaro_api import KeitaroError, PostbackNotFound, Tracker, display_url

log = logging.getLogger(__name__)


async def postback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    lang = lang_of(update)
    postback_id = parse_id(argument_text(message), views.MAX_POSTBACK_ID)
    if postback_id is None:
        await reply(message, t(lang, "postback.usage", max_id=views.MAX_POSTBACK_ID))
        return

    found = services(context)
    creds = await found.store.get(chat.id)
    if creds is None:
        key = "postback.not_connected_group" if is_group(chat) else "postback.not_connected"
        await reply(message, t(lang, key))
        return

    tracker = Tracker(root=creds.tracker_url, api_key=creds.api_key)
    shown = display_url(creds.tracker_url)
    try:
        lookup = await found.client.lookup_postback(tracker, postback_id)
    except PostbackNotFound:
        await reply(message, t(lang, "postback.not_found", id=postback_id, tracker=shown))
        return
    except KeitaroError as error:
        log.info("chat %s: postback %s on %s failed: %r", chat.id, postback_id, shown, error)
        await reply(message, views.error_text(lang, error, found.settings.keitaro_timeout))
        return
    await reply(message, views.postback_reply(lang, lookup, shown))
