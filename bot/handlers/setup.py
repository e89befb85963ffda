"""Connecting a group in a private chat, so that its members never see the API key.

``/connect`` without arguments from a group admin answers with a button that opens a private
chat with the bot through a deep link (``/start <token>``). There the admin sends the tracker
address and the key, which go through the same check and save as ``/connect``, for the group.
"""

from __future__ import annotations

import logging
import math

from pydantic import SecretStr
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
    User,
)
from telegram.error import TelegramError
from telegram.ext import ContextTypes
from telegram.helpers import create_deep_linked_url

from bot.formatting import Markup
from bot.handlers.common import delete_quietly, is_admin_member, is_chat_admin, lang_of, reply
from bot.handlers.connection import (
    Connected,
    connect_chat,
    deletion_note,
    looks_like_address,
    may_hold_key,
    split_insecure,
    url_and_key,
    who,
)
from bot.handlers.help import unknown_in_private
from bot.handlers.language import chat_languages
from bot.i18n import Lang, plural, t
from bot.services import services
from bot.setup_links import Group, LinkRefused, Setup, SetupLinks

log = logging.getLogger(__name__)

_LINKS = "setup_links"
_REFUSALS = {
    LinkRefused.UNKNOWN: "setup.link_unknown",
    LinkRefused.NOT_YOURS: "setup.link_not_yours",
    LinkRefused.USED: "setup.link_used",
    LinkRefused.EXPIRED: "setup.link_expired",
}


def setup_links(context: ContextTypes.DEFAULT_TYPE) -> SetupLinks:
    links = context.bot_data.get(_LINKS)
    if not isinstance(links, SetupLinks):
        ttl = services(context).settings.setup_link_ttl_seconds
        links = context.bot_data[_LINKS] = SetupLinks(ttl)
    return links


async def offer_private_setup(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/connect`` without arguments in a group: a private link for the admin who sent it."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    lang = lang_of(update)
    if not await is_chat_admin(update, context):
        await reply(message, t(lang, "connect.admins_only"))
        return
    user = message.from_user
    if message.sender_chat is not None or user is None:
        # An anonymous admin: a link bound to GroupAnonymousBot would bind no one.
        await reply(message, t(lang, "setup.anonymous"))
        return
    links = setup_links(context)
    thread_id = message.message_thread_id if message.is_topic_message else None
    token = links.issue(Group(chat.id, chat.title or str(chat.id), thread_id), user.id)
    url = create_deep_linked_url(context.bot.username, token)
    log.info("chat %s: private setup link issued to user %s", chat.id, user.id)
    await reply(
        message,
        t(lang, "setup.offer", minutes=_minutes(links.ttl)),
        buttons=InlineKeyboardMarkup.from_button(
            InlineKeyboardButton(t(lang, "setup.button"), url=url)
        ),
    )


async def open_setup(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/start <token>`` in a private chat: the admin opened a setup link."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    lang = lang_of(update)
    links = setup_links(context)
    token = context.args[0] if context.args else ""
    setup = links.redeem(token, user.id)
    if isinstance(setup, LinkRefused):
        log.info("user %s: setup link refused (%s)", user.id, setup.value)
        await reply(message, t(lang, _REFUSALS[setup], minutes=_minutes(links.ttl)))
        return
    log.info("user %s: private setup of chat %s started", user.id, setup.group.id)
    await reply(message, t(lang, "setup.started", group=setup.group.title))


async def setup_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A private message during a setup: the tracker address, the key, or both."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.text is None:
        return
    links = setup_links(context)
    setup = links.setup_of(user.id)
    if setup is None:
        await unknown_in_private(update, context)  # not in a setup: the bot answers commands
        return
    lang = lang_of(update)
    parts = message.text.split()
    # "url key insecure" in one message, as with /connect in a chat.
    parts, insecure = split_insecure(parts)
    # A message that may hold the key does not stay in the chat, and the answer says so.
    holds_key = may_hold_key(parts)
    deleted = holds_key and await delete_quietly(message)
    note = deletion_note(lang, parts, deleted, group=False)

    async def answer(text: str) -> None:
        await reply(message, text + note, quote=False if holds_key else None)

    if links.timed_out(setup):
        links.finish(user.id)
        await answer(t(lang, "setup.timed_out", group=setup.group.title))
        return
    if len(parts) == 2:
        url, key = url_and_key(parts)
    elif len(parts) == 1 and looks_like_address(parts[0]):
        setup.tracker_url = parts[0]
        if setup.api_key is None:
            await answer(t(lang, "setup.need_key"))
            return
        url, key = parts[0], setup.api_key.get_secret_value()
    elif len(parts) == 1:
        if setup.tracker_url is None:
            setup.api_key = SecretStr(parts[0])
            await answer(t(lang, "setup.need_url"))
            return
        url, key = setup.tracker_url, parts[0]
    else:
        await answer(t(lang, "setup.usage"))
        return
    await answer(
        await _connect_group(
            context, lang, setup, user, who(message), url, key, verify_tls=not insecure
        )
    )


async def _connect_group(
    context: ContextTypes.DEFAULT_TYPE,
    lang: Lang,
    setup: Setup,
    user: User,
    name: str,
    url: str,
    key: str,
    *,
    verify_tls: bool = True,
) -> Markup:
    links = setup_links(context)

    async def still_admin() -> Markup | None:
        # Rights are checked when saving, not only when the link was made: a demoted admin
        # cannot finish a setup they started.
        try:
            if await is_admin_member(context.bot, setup.group.id, user.id):
                return None
            refusal = "setup.not_admin"
        except TelegramError as error:
            log.info("chat %s: cannot check user %s's rights: %s", setup.group.id, user.id, error)
            refusal = "setup.group_unreachable"
        links.finish(user.id)
        return t(lang, refusal, group=setup.group.title)

    result = await connect_chat(
        context,
        lang,
        setup.group.id,
        url,
        key,
        by_id=user.id,
        by_name=name,
        may_save=still_admin,
        verify_tls=verify_tls,
    )
    if not isinstance(result, Connected):
        if links.setup_of(user.id) is setup:
            # Whatever was wrong, the admin types both again; nothing half-right is kept.
            setup.tracker_url = setup.api_key = None
            return Markup(f"{result}\n{t(lang, 'setup.retry')}")
        return result
    links.finish(user.id)
    await _tell_group(context, lang, setup.group, name, result.tracker)
    return t(
        lang,
        "setup.done",
        group=setup.group.title,
        tracker=result.tracker,
        key=result.masked_key,
        campaigns=plural(lang, "campaigns", result.campaigns),
    )


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/cancel``: stop the sender's setup in progress."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    lang = lang_of(update)
    setup = setup_links(context).finish(user.id)
    if setup is None:
        await reply(message, t(lang, "setup.nothing_to_cancel"))
        return
    log.info("user %s: private setup of chat %s cancelled", user.id, setup.group.id)
    await reply(message, t(lang, "setup.cancelled", group=setup.group.title))


async def _tell_group(
    context: ContextTypes.DEFAULT_TYPE, lang: Lang, group: Group, who: str, tracker: str
) -> None:
    """A short note in the group, without the key: who connected it, and to which tracker.

    In the group's own /language if it chose one, else in the admin's."""
    lang = await chat_languages(context).get(services(context).store, group.id) or lang
    try:
        await context.bot.send_message(
            group.id,
            t(lang, "setup.group_note", who=who, tracker=tracker),
            message_thread_id=group.thread_id,
        )
    except TelegramError as error:
        log.info("chat %s: could not post the connection note: %s", group.id, error)


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))
