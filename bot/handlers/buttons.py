"""The buttons under a postback reply: Refresh (Retry after a failure) and Details.

A button carries its chat and postback id in its callback_data, so it works after a restart with
no state kept; it acts only in the chat it was made for, and answers every press exactly once.
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import views
from bot.formatting import plain_text
from bot.handlers.common import lang_of, reply
from bot.handlers.postback import look_up
from bot.i18n import t

log = logging.getLogger(__name__)

ANSWER_LIMIT = 200  # characters Telegram shows in a button press's answer


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    lang = lang_of(update)
    button = views.parse_button(query.data or "")
    message = query.message
    # An InaccessibleMessage (too old to touch) is not a Message: the button cannot act on it.
    if button is None or not isinstance(message, Message):
        await query.answer(t(lang, "button.unknown"))
        return
    if message.chat_id != button.chat_id:
        log.info("chat %s: refused a button made for chat %s", message.chat_id, button.chat_id)
        await query.answer(t(lang, "button.wrong_chat"), show_alert=True)
        return

    answer = await look_up(context, message.chat, lang, button.postback_id)
    if button.action == "d" and answer.record is not None:
        details = views.details_reply(lang, button.postback_id, answer.record)
        await reply(message, details, context=context)
        await query.answer()
    elif not answer.found:
        # Keep what the message shows (the data, or the earlier failure with its Retry button)
        # and say why this press could not refresh it.
        await query.answer(_short(plain_text(answer.parts[0])), show_alert=True)
    elif len(answer.parts) > 1:
        # A reply in several messages cannot be edited as one: it is sent again, whole.
        await reply(message, answer.parts, buttons=answer.buttons, context=context)
        await query.answer(t(lang, "button.refreshed"))
    else:
        try:
            await message.edit_text(answer.parts[0], reply_markup=answer.buttons)
        except BadRequest as error:
            if "not modified" not in error.message.lower():
                raise
            await query.answer(t(lang, "button.up_to_date"))
            return
        await query.answer(t(lang, "button.refreshed"))


def _short(text: str) -> str:
    return text if len(text) <= ANSWER_LIMIT else text[: ANSWER_LIMIT - 1] + "…"
