"""/connect, /status and /disconnect: the chat's tracker credentials."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot import views
from bot.formatting import Markup
from bot.handlers.common import (
    argument_text,
    delete_quietly,
    is_chat_admin,
    is_group,
    lang_of,
    reply,
)
from bot.i18n import t
from bot.services import services
from bot.storage import ChatCredentials
from keitaro_api import InvalidTrackerURL, KeitaroError, Tracker, TransportError, display_url
from keitaro_api.redact import mask_key

log = logging.getLogger(__name__)


async def connect(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    lang = lang_of(update)
    args = argument_text(message).split()
    # Whatever else happens, a message that may hold a key does not stay in the chat, and
    # every answer says whether it is gone or the key should be rotated.
    deleted = await delete_quietly(message) if args else False
    note = _deletion_note(lang, args, deleted, is_group(chat))

    async def answer(text: str) -> None:
        # Quoting a message we deleted would fail; reply in the same chat and topic instead.
        await reply(message, text + note, quote=False if deleted else None)

    if not await is_chat_admin(update, context):
        await answer(t(lang, "connect.admins_only"))
        return
    if len(args) != 2:
        await answer(t(lang, "connect.usage"))
        return
    url, key = _url_first(args)
    if not _looks_like_address(url):
        # Never resolve, request or log something that may be the key.
        await answer(t(lang, "connect.bad_url", reason=t(lang, "connect.no_address")))
        return
    try:
        tracker = Tracker.from_user_input(url, key)
    except InvalidTrackerURL as error:
        await answer(t(lang, "connect.bad_url", reason=str(error)))
        return
    except ValueError:
        await answer(t(lang, "connect.bad_key"))
        return

    found = services(context)
    try:
        campaigns = await found.client.check_key(tracker)
    except KeitaroError as error:
        log.info("connect refused for chat %s, tracker %s: %r", chat.id, tracker.display, error)
        problem = views.error_text(lang, error, found.settings.keitaro_timeout)
        if isinstance(error, TransportError) and "://" not in url:
            problem = Markup(f"{problem} {t(lang, 'connect.https_guessed')}")
        await answer(t(lang, "connect.rejected", error=problem))
        return

    user = message.from_user if message.sender_chat is None else None
    await found.store.put(
        ChatCredentials(
            chat_id=chat.id,
            tracker_url=tracker.root,
            api_key=tracker.api_key,
            connected_by_id=user.id if user else None,
            connected_by_name=_who(message),
            connected_at=datetime.now(UTC),
        )
    )
    log.info("chat %s connected to %s", chat.id, tracker.display)
    masked = mask_key(tracker.api_key.get_secret_value())
    await answer(views.connected_reply(lang, tracker.display, masked, campaigns))


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    lang = lang_of(update)
    creds = await services(context).store.get(chat.id)
    if creds is None:
        await reply(message, t(lang, "status.none"))
        return
    key = mask_key(creds.api_key.get_secret_value())
    who = creds.connected_by_name or None
    tracker = display_url(creds.tracker_url)
    await reply(message, views.status_reply(lang, tracker, key, who, creds.connected_at))


async def disconnect(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    lang = lang_of(update)
    if not await is_chat_admin(update, context):
        await reply(message, t(lang, "connect.admins_only"))
        return
    store = services(context).store
    creds = await store.get(chat.id)
    if creds is None:
        await reply(message, t(lang, "disconnect.none"))
        return
    await store.delete(chat.id)
    log.info("chat %s disconnected from %s", chat.id, creds.tracker_url)
    await reply(message, t(lang, "disconnect.done", tracker=display_url(creds.tracker_url)))


def _deletion_note(lang: str, args: list[str], deleted: bool, group: bool) -> str:
    if len(args) < 2:
        return ""
    if deleted:
        return "\n" + t(lang, "connect.deleted")
    return "\n" + t(lang, "connect.not_deleted_group" if group else "connect.not_deleted")


def _looks_like_address(text: str) -> bool:
    """A tracker address has a scheme, a dot, a port or a path; an API key has none of them."""
    return any(mark in text for mark in ("://", ".", ":", "/")) or text.lower() == "localhost"


def _url_first(args: list[str]) -> tuple[str, str]:
    """The tracker address and the key, in whichever order they were typed."""
    first, second = args
    if not _looks_like_address(first) and _looks_like_address(second):
        return second, first
    return first, second


def _who(message: Message) -> str:
    user = message.from_user
    if message.sender_chat is not None or user is None:
        return ""
    return f"{user.full_name} (@{user.username})" if user.username else user.full_name
