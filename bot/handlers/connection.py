"""/connect, /status and /disconnect: the chat's tracker credentials."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
from keitaro_api import (
    CertificateError,
    InvalidTrackerURL,
    KeitaroError,
    Tracker,
    TransportError,
    display_url,
)
from keitaro_api.redact import mask_key

log = logging.getLogger(__name__)

# "/connect <url> <key> insecure": trust the tracker's certificate without checking it
# (a self-signed one), if the operator allows that (KEITARO_ALLOW_UNVERIFIED_TLS).
INSECURE = "insecure"


async def connect(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    lang = lang_of(update)
    args = argument_text(message).split()
    # Whatever else happens, a message that may hold a key does not stay in the chat, and
    # every answer says whether it is gone or the key should be rotated.
    deleted = await delete_quietly(message) if args else False
    note = deletion_note(lang, args, deleted, is_group(chat))

    async def answer(text: str) -> None:
        # Quoting a message we deleted would fail; reply in the same chat and topic instead.
        await reply(message, text + note, quote=False if deleted else None)

    if not await is_chat_admin(update, context):
        await answer(t(lang, "connect.admins_only"))
        return
    args, insecure = split_insecure(args)
    if len(args) != 2:
        await answer(t(lang, "connect.usage"))
        return
    url, key = url_and_key(args)
    user = message.from_user if message.sender_chat is None else None
    result = await connect_chat(
        context,
        lang,
        chat.id,
        url,
        key,
        by_id=user.id if user else None,
        by_name=who(message),
        verify_tls=not insecure,
    )
    if isinstance(result, Connected):
        result = views.connected_reply(lang, result.tracker, result.masked_key, result.campaigns)
    await answer(result)


@dataclass(frozen=True)
class Connected:
    """What connect_chat saved, as the user may see it."""

    tracker: str  # display form of the tracker address
    masked_key: str
    campaigns: int


# Called after the tracker accepted the key and just before saving: a refusal, or None to save.
SaveCheck = Callable[[], Awaitable[Markup | None]]


async def connect_chat(
    context: ContextTypes.DEFAULT_TYPE,
    lang: str,
    chat_id: int,
    url: str,
    key: str,
    *,
    by_id: int | None,
    by_name: str,
    may_save: SaveCheck | None = None,
    verify_tls: bool = True,
) -> Connected | Markup:
    """Check ``url`` and ``key`` against the tracker and save them as ``chat_id``'s connection.

    The one way a chat gets connected, from /connect in that chat or from a private setup for a
    group. Returns what was saved, or the reply saying why nothing was.
    """
    if not looks_like_address(url):
        # Never resolve, request or log something that may be the key.
        return t(lang, "connect.bad_url", reason=t(lang, "connect.no_address"))
    try:
        tracker = Tracker.from_user_input(url, key, verify_tls=verify_tls)
    except InvalidTrackerURL as error:
        return t(lang, "connect.bad_url", reason=str(error))
    except ValueError:
        return t(lang, "connect.bad_key")

    found = services(context)
    allow_unverified = found.settings.keitaro_allow_unverified_tls
    if not verify_tls and not allow_unverified:
        return t(lang, "connect.insecure_refused")
    try:
        campaigns = await found.client.check_key(tracker)
    except KeitaroError as error:
        log.info("connect refused for chat %s, tracker %s: %r", chat_id, tracker.display, error)
        problem = views.error_text(lang, error, found.settings.keitaro_timeout)
        if isinstance(error, TransportError) and "://" not in url:
            problem = Markup(f"{problem} {t(lang, 'connect.https_guessed')}")
        if isinstance(error, CertificateError) and verify_tls and allow_unverified:
            problem = Markup(f"{problem}\n{t(lang, 'connect.insecure_hint')}")
        return t(lang, "connect.rejected", error=problem)
    if may_save is not None and (refusal := await may_save()) is not None:
        return refusal

    await found.store.put(
        ChatCredentials(
            chat_id=chat_id,
            tracker_url=tracker.root,
            api_key=tracker.api_key,
            connected_by_id=by_id,
            connected_by_name=by_name,
            connected_at=datetime.now(UTC),
            verify_tls=tracker.verify_tls,
        )
    )
    log.info("chat %s connected to %s", chat_id, tracker.display)
    return Connected(tracker.display, mask_key(tracker.api_key.get_secret_value()), campaigns)


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
    text = views.status_reply(lang, tracker, key, who, creds.connected_at)
    if not creds.verify_tls:
        allowed = services(context).settings.keitaro_allow_unverified_tls
        warning = "status.tls_unverified" if allowed else "status.tls_unverified_refused"
        text = Markup(f"{text}\n{t(lang, warning)}")
    await reply(message, text)


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


def split_insecure(args: list[str]) -> tuple[list[str], bool]:
    """``url key insecure`` -> (``[url, key]``, True); anything else is left as it is."""
    if len(args) == 3 and args[2].lower() == INSECURE:
        return args[:2], True
    return args, False


def may_hold_key(args: list[str]) -> bool:
    """Anything but nothing or a lone address may be (or hold) an API key."""
    return bool(args) and not (len(args) == 1 and looks_like_address(args[0]))


def deletion_note(lang: str, args: list[str], deleted: bool, group: bool) -> str:
    """The line saying a message that may have held the key is gone, or should be rotated."""
    if not may_hold_key(args):
        return ""
    if deleted:
        return "\n" + t(lang, "connect.deleted")
    return "\n" + t(lang, "connect.not_deleted_group" if group else "connect.not_deleted")


def looks_like_address(text: str) -> bool:
    """A tracker address has a scheme, a dot, a port or a path; an API key has none of them."""
    return any(mark in text for mark in ("://", ".", ":", "/")) or text.lower() == "localhost"


def url_and_key(args: list[str]) -> tuple[str, str]:
    """The tracker address and the key, in whichever order they were typed."""
    first, second = args
    if not looks_like_address(first) and looks_like_address(second):
        return second, first
    return first, second


def who(message: Message) -> str:
    user = message.from_user
    if message.sender_chat is not None or user is None:
        return ""
    return f"{user.full_name} (@{user.username})" if user.username else user.full_name
