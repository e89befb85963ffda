"""build_application(): the whole bot wired in one readable chain."""

from __future__ import annotations

import logging

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.config import Settings
from bot.crypto import key_file_is_private
from bot.handlers.access import only_allowed_chats
from bot.handlers.buttons import press
from bot.handlers.connection import connect, disconnect, status
from bot.handlers.errors import on_error
from bot.handlers.help import help_command, unknown_in_private
from bot.handlers.language import (
    BUTTON_PATTERN,
    language_button,
    language_command,
    use_chat_language,
)
from bot.handlers.membership import membership_changed
from bot.handlers.migration import follow_migration
from bot.handlers.postback import postback
from bot.handlers.setup import cancel, offer_private_setup, open_setup, setup_input
from bot.i18n import LANGUAGES, t
from bot.services import Services, install, services_in
from bot.storage import open_store_with_keys, sqlite_path
from keitaro_api import KeitaroClient, RequestRecord

log = logging.getLogger(__name__)

# Lookups wait on trackers (up to KEITARO_TIMEOUT); a chat hammering a hanging tracker must not
# use up the slots other chats need. An update in flight is one small coroutine.
CONCURRENT_UPDATES = 1024
MENU = ("postback", "connect", "status", "disconnect", "cancel", "language", "help")


def build_application(
    settings: Settings, rate_limiter: AIORateLimiter | None = None
) -> Application:  # type: ignore[type-arg]
    """The bot. ``rate_limiter`` defaults to Telegram's flood limits (30/s, 20/min per group)."""

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        install(app.bot_data, await _start_services(settings))
        await _set_menu(app)
        log.info("connected to Telegram as @%s", app.bot.username)

    async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
        if "services" in app.bot_data:
            found = services_in(app.bot_data)
            await found.client.close()
            await found.store.close()

    app = (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                allow_sending_without_reply=True,
            )
        )
        .rate_limiter(rate_limiter or AIORateLimiter(max_retries=5))
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    # Which language each update is answered in, before anything answers (even a refusal).
    app.add_handler(TypeHandler(Update, use_chat_language), group=-2)
    app.add_handler(TypeHandler(Update, only_allowed_chats), group=-1)
    # A deep link from a group's /connect arrives as "/start <token>" in a private chat.
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", open_setup, filters=private, has_args=True))
    app.add_handler(CommandHandler(["start", "help"], help_command))
    app.add_handler(
        CommandHandler(
            "connect", offer_private_setup, filters=filters.ChatType.GROUPS, has_args=False
        )
    )
    app.add_handler(CommandHandler("connect", connect))
    app.add_handler(CommandHandler("cancel", cancel))
    app.add_handler(CommandHandler("disconnect", disconnect))
    app.add_handler(CommandHandler("status", status))
    app.add_handler(CommandHandler("language", language_command))
    app.add_handler(CallbackQueryHandler(language_button, pattern=BUTTON_PATTERN))
    app.add_handler(CommandHandler("postback", postback))
    # Refresh and Details under a postback reply; also answers presses of unknown buttons.
    app.add_handler(CallbackQueryHandler(press))
    app.add_handler(ChatMemberHandler(membership_changed, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, follow_migration))
    app.add_handler(
        MessageHandler(
            private & filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, setup_input
        )
    )
    # Known commands matched above; anything else in a private chat gets a pointer to /help.
    app.add_handler(
        MessageHandler(private & filters.UpdateType.MESSAGE & filters.COMMAND, unknown_in_private)
    )
    app.add_error_handler(on_error)
    return app


async def _start_services(settings: Settings) -> Services:
    key_file, configured = settings.key_file, settings.configured_keys
    store, generated = await open_store_with_keys(settings.database_url, configured, key_file)
    if generated:
        log.warning(
            "generated a new encryption key for stored API keys at %s (mode 0600); back it up: "
            "without it the stored keys cannot be read",
            key_file,
        )
    elif configured is None and not key_file_is_private(key_file):
        log.warning("encryption key file %s is readable by other users: chmod 600 it", key_file)
    try:
        where = sqlite_path(settings.database_url) or "PostgreSQL"
        log.info("credential store ready at %s: %d chat(s) connected", where, await store.count())
    except BaseException:
        await store.close()  # an open SQLite connection's thread would keep the process alive
        raise
    if settings.allowed_chats is not None:
        log.info(
            "private mode: serving only %d chat(s) from ALLOWED_CHAT_IDS",
            len(settings.allowed_chats),
        )
    client = KeitaroClient(
        timeout=settings.keitaro_timeout,
        allow_private_hosts=settings.keitaro_allow_private_hosts,
        allow_unverified_tls=settings.keitaro_allow_unverified_tls,
        on_request=_log_request,
    )
    return Services(settings=settings, store=store, client=client)


def _log_request(record: RequestRecord, status: int | None, elapsed: float) -> None:
    log.debug("%s %s -> %s in %.0f ms", record.method, record.url, status, elapsed * 1000)


async def _set_menu(app: Application) -> None:  # type: ignore[type-arg]
    for lang in LANGUAGES:
        commands = [BotCommand(name, t(lang, f"commands.{name}")) for name in MENU]
        await app.bot.set_my_commands(commands, language_code=None if lang == "en" else lang)
