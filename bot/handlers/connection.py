"""/connect, /status and /disconnect: the chat's tracker credentials."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot import views
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
from keitaro_api import InvalidTrackerURL, KeitaroError, Tracker, display_url
from keitaro_api.redact import mask_key

log = logging.getLogger(__name__)


async def connect(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    lang = lang_of(update)
    args = argument_text(message).split()
    # Whatever else happens, a message that may hold a key does not stay in the chat.
    deleted = await delete_quietly(message) if args else False
    if not await is_chat_admin(update, context):
        await _answer(message, deleted, t(lang, "connect.admins_only"))
        return
    if len(args) != 2:
        note = _deletion_note(lang, args, deleted, is_group(chat))
        await _answer(message, deleted, t(lang, "connect.usage") + note)
        return
    try:
        tracker = Tracker.from_user_input(args[0], args[1])
    except InvalidTrackerURL as error:
        await _answer(message, deleted, t(lang, "connect.bad_url", reason=str(error)))
        return
    except ValueError:
        await _answer(message, deleted, t(lang, "connect.bad_key"))
        return

    found = services(context)
    note = _deletion_note(lang, args, deleted, is_group(chat))
    try:
        campaigns = await found.client.check_key(tracker)
    except KeitaroError as error:
        log.info("connect refused for chat %s, tracker %s: %r", chat.id, tracker.display, error)
        problem = views.error_text(lang, error, found.settings.keitaro_timeout)
        await _answer(message, deleted, t(lang, "connect.rejected", error=problem) + note)
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
    key = mask_key(tracker.api_key.get_secret_value())
    await _answer(
        message, deleted, views.connected_reply(lang, tracker.display, key, campaigns, note)
    )


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


async def _answer(message: Message, deleted: bool, text: str) -> None:
    # Quoting a message we deleted would fail; reply in the same chat and topic instead.
    await reply(message, text, quote=False if deleted else None)


def _deletion_note(lang: str, args: list[str], deleted: bool, group: bool) -> str:
    if len(args) < 2:
        return ""
    if deleted:
        return "\n" + t(lang, "connect.deleted")
    return "\n" + t(lang, "connect.not_deleted_group" if group else "connect.not_deleted")


def _who(message: Message) -> str:
    user = message.from_user
    if message.sender_chat is not None or user is None:
        return ""
    return f"{user.full_name} (@{user.username})" if user.username else user.full_name
