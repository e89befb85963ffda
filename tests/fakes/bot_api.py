"""A local Telegram Bot API server, strict where the bot depends on Telegram.

The real python-telegram-bot Application talks to it over HTTP: point its base URL (or
TELEGRAM_API_BASE_URL) at ``FakeBotAPI.base_url``; requests arrive at ``/bot<TOKEN>/<method>``.
Tests inject updates with the builders (``send_message``, ``edit_message``, ``add_update``) and
read what the bot did with ``wait_for_messages``, ``messages``, ``deleted`` and ``calls``.

Error descriptions copy Telegram's wording, because PTB and the bot react to them. Where this
fake is stricter than Telegram (a bare ``&`` or an ``<a>`` without href is rejected), it is so
that a formatting bug fails a test instead of slipping through.

Run standalone for a manual demo: ``python -m tests.fakes.bot_api --port 8081 --token TOKEN``,
then talk to the bot with ``python -m tests.fakes.say "/postback 42"``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import web

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]
MemberStatus = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]

MAX_MESSAGE_LENGTH = 4096  # UTF-16 code units, after entity parsing
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
ANONYMOUS_ADMIN_ID = 1087968824


# --- Telegram HTML ------------------------------------------------------------------------------
# Modelled on tdlib's parse_html (td/telegram/MessageEntity.cpp), which produces Telegram's
# "can't parse entities" reasons; offsets in those reasons are UTF-8 byte offsets.

_SUPPORTED_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre"}
    | {"blockquote", "span", "tg-spoiler", "tg-emoji"}
)
_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
}
_NAMED_CHARACTERS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHARACTER_REFERENCE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z]{1,10}));")
_PLAIN_RUN = re.compile(r"[^&<]+")


class HtmlParseError(ValueError):
    """Why Telegram can't parse entities, e.g. 'Unsupported start tag "foo" at byte offset 5'."""


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units, so an emoji outside the BMP counts 2."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(html: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram HTML into (plain text, MessageEntity dicts) or raise HtmlParseError."""
    return _HtmlParser(html).parse()


@dataclass
class _OpenTag:
    name: str
    offset: int  # UTF-16 offset in the plain text where the entity starts
    attributes: dict[str, str]


class _HtmlParser:
    def __init__(self, html: str) -> None:
        self.html = html
        self.pos = 0
        self.pieces: list[str] = []
        self.length = 0
        self.open_tags: list[_OpenTag] = []
        self.entities: list[JSONDict] = []

    def parse(self) -> tuple[str, list[JSONDict]]:
        while self.pos < len(self.html):
            if self.html.startswith("&", self.pos):
                self._append(self._character_reference())
            elif self.html.startswith("</", self.pos):
                self._end_tag()
            elif self.html.startswith("<", self.pos):
                self._start_tag()
            else:
                run = _PLAIN_RUN.match(self.html, self.pos)
                assert run is not None
                self._append(run.group())
                self.pos = run.end()
        if self.open_tags:
            name = self.open_tags[-1].name
            raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{name}"')
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(self.pieces), self.entities

    def _append(self, text: str) -> None:
        self.pieces.append(text)
        self.length += utf16_len(text)

    def _byte_offset(self, pos: int) -> int:
        return len(self.html[:pos].encode("utf-8"))

    def _character_reference(self) -> str:
        start = self.pos
        match = _CHARACTER_REFERENCE.match(self.html, start)
        decoded = _decode_reference(match) if match else None
        if match is None or decoded is None:
            raise HtmlParseError(
                f"Unsupported HTML entity at byte offset {self._byte_offset(start)}; "
                "use &lt; &gt; &amp; &quot; or a numeric character reference"
            )
        self.pos = match.end()
        return decoded

    def _at_end(self, pos: int) -> bool:
        return pos >= len(self.html)

    def _start_tag(self) -> None:
        html, begin = self.html, self.pos
        at = f"at byte offset {self._byte_offset(begin)}"
        pos = begin + 1
        while not self._at_end(pos) and not html[pos].isspace() and html[pos] != ">":
            pos += 1
        if self._at_end(pos):
            raise HtmlParseError(f"Unclosed start tag {at}")
        name = html[begin + 1 : pos].lower()
        if name not in _SUPPORTED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" {at}')

        attributes: dict[str, str] = {}
        while True:
            while not self._at_end(pos) and html[pos].isspace():
                pos += 1
            if self._at_end(pos):
                raise HtmlParseError(f"Unclosed start tag {at}")
            if html[pos] == ">":
                break
            name_start = pos
            while not self._at_end(pos) and not html[pos].isspace() and html[pos] not in "=>":
                pos += 1
            attribute = html[name_start:pos].lower()
            if not attribute:
                raise HtmlParseError(f'Empty attribute name in the tag "{name}" {at}')
            while not self._at_end(pos) and html[pos].isspace():
                pos += 1
            if self._at_end(pos):
                raise HtmlParseError(f"Unclosed start tag {at}")
            if html[pos] != "=":
                if name == "blockquote" and attribute == "expandable":
                    attributes[attribute] = ""
                    continue
                raise HtmlParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" {at}'
                )
            pos += 1
            while not self._at_end(pos) and html[pos].isspace():
                pos += 1
            if self._at_end(pos):
                raise HtmlParseError(f"Unclosed start tag {at}")
            attributes[attribute], pos = self._attribute_value(pos, at)
        self.pos = pos + 1
        self._check_attributes(name, attributes, at)
        self.open_tags.append(_OpenTag(name, self.length, attributes))

    def _attribute_value(self, pos: int, at: str) -> tuple[str, int]:
        html = self.html
        if html[pos] not in "'\"":
            # An unquoted value is an HTML name token: letters, digits, periods and hyphens.
            token_start = pos
            while not self._at_end(pos) and (html[pos].isalnum() or html[pos] in ".-"):
                pos += 1
            if self._at_end(pos):
                raise HtmlParseError(f"Unclosed start tag {at}")
            if not html[pos].isspace() and html[pos] != ">":
                offset = self._byte_offset(token_start)
                raise HtmlParseError(f"Unexpected end of name token at byte offset {offset}")
            return html[token_start:pos].lower(), pos
        quote = html[pos]
        pos += 1
        value: list[str] = []
        while not self._at_end(pos) and html[pos] != quote:
            if html[pos] == "&":
                self.pos = pos
                value.append(self._character_reference())
                pos = self.pos
            else:
                value.append(html[pos])
                pos += 1
        if self._at_end(pos):
            raise HtmlParseError(f"Unclosed start tag {at}")
        return "".join(value), pos + 1

    def _check_attributes(self, name: str, attributes: dict[str, str], at: str) -> None:
        if name == "a" and not attributes.get("href"):
            raise HtmlParseError(f'Tag "a" must have attribute "href" {at}')
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" {at}')
        if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise HtmlParseError(f'Tag "tg-emoji" must have a numeric attribute "emoji-id" {at}')

    def _end_tag(self) -> None:
        html, begin = self.html, self.pos
        at = f"at byte offset {self._byte_offset(begin)}"
        if not self.open_tags:
            raise HtmlParseError(f"Unexpected end tag {at}")
        pos = begin + 2
        while not self._at_end(pos) and not html[pos].isspace() and html[pos] != ">":
            pos += 1
        end_name = html[begin + 2 : pos].lower()
        while not self._at_end(pos) and html[pos].isspace():
            pos += 1
        if self._at_end(pos) or html[pos] != ">":
            raise HtmlParseError(f"Unclosed end tag {at}")
        tag = self.open_tags[-1]
        if end_name and end_name != tag.name:
            raise HtmlParseError(
                f'Unmatched end tag {at}, expected "</{tag.name}>", found "</{end_name}>"'
            )
        self.pos = pos + 1
        self.open_tags.pop()
        self._close_entity(tag)

    def _close_entity(self, tag: _OpenTag) -> None:
        length = self.length - tag.offset
        parent = self.open_tags[-1] if self.open_tags else None
        language = tag.attributes.get("class", "")
        in_pre = parent is not None and parent.name == "pre"
        if tag.name == "code" and in_pre and language.startswith("language-"):
            # <pre><code class="language-x"> is one pre entity with a language.
            assert parent is not None
            parent.attributes["language"] = language.removeprefix("language-")
            return
        if length == 0:
            return
        entity: JSONDict = {"type": _ENTITY_TYPES[tag.name], "offset": tag.offset, "length": length}
        if tag.name == "a":
            entity["url"] = tag.attributes["href"]
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.attributes["emoji-id"]
        elif tag.name == "pre" and "language" in tag.attributes:
            entity["language"] = tag.attributes["language"]
        elif tag.name == "blockquote" and "expandable" in tag.attributes:
            entity["type"] = "expandable_blockquote"
        self.entities.append(entity)


def _decode_reference(match: re.Match[str]) -> str | None:
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return _NAMED_CHARACTERS.get(name)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _strip(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Trim surrounding whitespace as Telegram does, keeping entities on the same characters."""
    leading = utf16_len(text[: len(text) - len(text.lstrip())])
    text = text.strip()
    end = utf16_len(text)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - leading, 0)
        stop = min(entity["offset"] + entity["length"] - leading, end)
        if stop > start:
            kept.append({**entity, "offset": start, "length": stop - start})
    return text, kept


# --- Update builders -----------------------------------------------------------------------------


def user(
    id: int,
    first_name: str,
    username: str | None = None,
    language_code: str | None = "en",
    *,
    is_bot: bool = False,
) -> JSONDict:
    """A Telegram User object."""
    result: JSONDict = {"id": id, "is_bot": is_bot, "first_name": first_name}
    if username is not None:
        result["username"] = username
    if language_code is not None:
        result["language_code"] = language_code
    return result


def private_chat(of: JSONDict) -> JSONDict:
    """The private chat with a user: same id as the user."""
    chat: JSONDict = {"id": of["id"], "type": "private", "first_name": of["first_name"]}
    if "username" in of:
        chat["username"] = of["username"]
    return chat


def group(id: int, title: str) -> JSONDict:
    """A basic group. Group ids are negative, as in Telegram."""
    if id >= 0:
        raise ValueError("group ids are negative")
    return {"id": id, "type": "group", "title": title}


def supergroup(
    id: int, title: str, is_forum: bool = False, username: str | None = None
) -> JSONDict:
    """A supergroup (ids look like -100xxxxxxxxxx); a forum when is_forum."""
    if id >= 0:
        raise ValueError("supergroup ids are negative")
    chat: JSONDict = {"id": id, "type": "supergroup", "title": title}
    if is_forum:
        chat["is_forum"] = True
    if username is not None:
        chat["username"] = username
    return chat


# Telegram sends an anonymous group admin's messages from this bot user, with sender_chat set
# to the group itself.
ANONYMOUS_ADMIN = user(ANONYMOUS_ADMIN_ID, "Group", "GroupAnonymousBot", None, is_bot=True)

_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")


def command_entities(text: str) -> list[JSONDict]:
    """bot_command entities as Telegram marks them; PTB's CommandHandler needs one at offset 0."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for match in _COMMAND.finditer(text)
    ]


# --- Bot API state --------------------------------------------------------------------------------


class BotAPIError(Exception):
    """An error answer: {"ok": false, "error_code": ..., "description": ...}."""

    def __init__(
        self,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def response(self) -> web.Response:
        body: JSONDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        if self.migrate_to_chat_id is not None:
            body["parameters"] = {"migrate_to_chat_id": self.migrate_to_chat_id}
        return web.json_response(body, status=self.error_code)


def _bad_request(reason: str) -> BotAPIError:
    return BotAPIError(400, f"Bad Request: {reason}")


@dataclass
class Call:
    """One Bot API request as the fake understood it."""

    method: str
    params: JSONDict
    time: float


@dataclass
class SentMessage:
    """A message the bot sent, as stored by the fake (and updated by edits and deletions)."""

    chat_id: int
    message_id: int
    text: str  # what the user sees: tags stripped, entities decoded
    raw_text: str  # what the bot sent
    parse_mode: str | None
    entities: list[JSONDict]
    message_thread_id: int | None
    reply_to_message_id: int | None
    reply_markup: JSONDict | None
    link_preview_options: JSONDict | None
    date: int
    edit_count: int = 0
    deleted: bool = False


@dataclass
class _Topic:
    name: str
    state: Literal["open", "closed", "deleted"] = "open"


@dataclass
class _Flood:
    limit: int
    retry_after: int
    window: float
    sent: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0


@dataclass
class _Chat:
    info: JSONDict
    members: dict[int, MemberStatus] = field(default_factory=dict)
    can_delete: bool | None = None
    topics: dict[int, _Topic] = field(default_factory=dict)
    messages: dict[int, JSONDict] = field(default_factory=dict)  # live messages by id
    sent: list[SentMessage] = field(default_factory=list)
    handed_out: set[int] = field(default_factory=set)  # returned by wait_for_messages
    last_message_id: int = 0
    flood: _Flood | None = None
    blocked: bool = False  # a private chat whose user blocked the bot
    migrated_to: int | None = None  # a group upgraded to this supergroup

    @property
    def id(self) -> int:
        return int(self.info["id"])

    @property
    def is_forum(self) -> bool:
        return bool(self.info.get("is_forum"))

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id


# Bot API parameter types. PTB sends every non-string value JSON-encoded in a form field, so
# decoding by name is what keeps text "42" a string while message_id "42" becomes a number.
_INT_PARAMS = frozenset(
    {"message_id", "message_thread_id", "reply_to_message_id", "user_id", "offset", "limit"}
    | {"timeout", "cache_time", "until_date", "from_chat_id", "direct_messages_topic_id"}
)
_BOOL_PARAMS = frozenset(
    {"disable_notification", "protect_content", "allow_sending_without_reply", "show_alert"}
    | {"disable_web_page_preview", "drop_pending_updates", "allow_paid_broadcast"}
    | {"only_if_banned", "revoke_messages", "for_channels"}
)
_JSON_PARAMS = frozenset(
    {"reply_parameters", "reply_markup", "allowed_updates", "commands", "scope", "entities"}
    | {"link_preview_options", "menu_button", "message_ids", "caption_entities", "rights"}
)
_INTEGER = re.compile(r"-?[0-9]+")
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_CODE = re.compile(r"(?:[a-z]{2})?")
_CHAT_ACTIONS = frozenset(
    {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice"}
    | {"upload_document", "choose_sticker", "find_location", "record_video_note"}
    | {"upload_video_note"}
)
_DEFAULT_ALLOWED_UPDATES = None  # every type except the opt-in ones below
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def _coerce(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if name in _JSON_PARAMS:
            return json.loads(value)
        if name in _INT_PARAMS:
            return int(value)
    except ValueError:
        raise _bad_request(f"can't parse {name}") from None
    if name in _BOOL_PARAMS:
        lowered = value.lower()
        if lowered not in {"true", "false", "1", "0", ""}:
            raise _bad_request(f"can't parse {name} as Boolean")
        return lowered in {"true", "1"}
    if name == "chat_id" and _INTEGER.fullmatch(value):
        return int(value)
    return value


async def _read_params(request: web.Request) -> JSONDict:
    params: JSONDict = dict(request.query)
    if request.method != "POST" or not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _bad_request("can't parse JSON object")
        params.update(body)
        return params
    for name, value in (await request.post()).items():
        params[name] = value if isinstance(value, (str, bytes, bytearray)) else value.file.read()
    return params


_RESTRICTED_PERMISSIONS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
    "can_edit_tag",
    "can_react_to_messages",
)


def _chat_member(member: JSONDict, status: MemberStatus) -> JSONDict:
    """A ChatMember with every field PTB requires for its status."""
    result: JSONDict = {"status": status, "user": member}
    if status == "creator":
        result["is_anonymous"] = False
    elif status == "administrator":
        result |= {
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
            "can_pin_messages": True,
            "can_manage_topics": True,
        }
    elif status == "restricted":
        result |= dict.fromkeys(_RESTRICTED_PERMISSIONS, False)
        result |= {"is_member": True, "until_date": 0}
    elif status == "kicked":
        result["until_date"] = 0
    return result


# What a URL button may open: a web page or a tg:// link (deep links are https://t.me/...).
_BUTTON_URL = re.compile(r"(?:https?|tg)://[^\s]+", re.IGNORECASE)


def _check_reply_markup(markup: Any) -> None:
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if "callback_data" in button:
                size = len(str(button["callback_data"]).encode("utf-8"))
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise _bad_request("BUTTON_DATA_INVALID")
            elif "url" in button:
                if not _BUTTON_URL.fullmatch(str(button["url"])):
                    raise _bad_request("BUTTON_URL_INVALID")
            elif len(button) == 1:
                raise _bad_request("text buttons are unallowed in the inline keyboard")


def _formatted_text(params: JSONDict) -> tuple[str, list[JSONDict]]:
    """The text a user would see and its entities, validated like Telegram validates them."""
    raw = params.get("text")
    if not isinstance(raw, str) or not raw.strip():
        raise _bad_request("message text is empty")
    parse_mode = (params.get("parse_mode") or "").lower()
    if parse_mode not in {"", "html", "markdown", "markdownv2"}:
        raise _bad_request(f"unsupported parse_mode {params['parse_mode']!r}")
    if parse_mode == "html":  # Markdown is not modelled: the bot formats with HTML only.
        try:
            text, entities = parse_html(raw)
        except HtmlParseError as error:
            raise _bad_request(f"can't parse entities: {error}") from None
    else:
        text, entities = raw, list(params.get("entities") or [])
    text, entities = _strip(text, entities)
    if not text:
        raise _bad_request("message text is empty")
    if utf16_len(text) > MAX_MESSAGE_LENGTH:
        raise _bad_request("message is too long")
    return text, entities


def _without_reply(message: JSONDict) -> JSONDict:
    # Telegram nests reply_to_message one level deep only.
    return {key: value for key, value in message.items() if key != "reply_to_message"}


class FakeBotAPI:
    """A Telegram Bot API server on localhost, holding chats, messages and updates in memory."""

    def __init__(
        self,
        token: str = "123456:TEST-token-abcdefghijklmnopqrstuv",
        bot_username: str = "KeitaroTestBot",
        bot_id: int = 123456,
    ) -> None:
        self.token = token
        self.bot_user: JSONDict = user(bot_id, bot_username, bot_username, None, is_bot=True)
        self.calls: list[Call] = []
        self.deleted: list[tuple[int, int]] = []  # (chat_id, message_id) the bot deleted
        self.descriptions: dict[tuple[str, str], str] = {}  # (field, language_code) -> text
        self.menu_buttons: dict[int | None, JSONDict] = {}
        self.callback_answers: dict[str, JSONDict] = {}  # query id -> answerCallbackQuery params
        self._callback_queries: set[str] = set()  # pressed and not answered yet
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, JSONDict] = {bot_id: self.bot_user}
        self._updates: list[JSONDict] = []
        self._last_update_id = 100_000
        self._allowed_updates: frozenset[str] | None = _DEFAULT_ALLOWED_UPDATES
        self._commands: dict[tuple[str, str], tuple[JSONDict, list[JSONDict]]] = {}
        self._calls_handed_out = 0
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port: int | None = None
        handlers: dict[str, Callable[[JSONDict], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "logOut": self._accept,
            "close": self._accept,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "deleteMessage": self._delete_message,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "sendChatAction": self._send_chat_action,
            "answerCallbackQuery": self._answer_callback_query,
            "setChatMenuButton": self._set_chat_menu_button,
            "setMyDescription": self._set_description("description", 512),
            "setMyShortDescription": self._set_description("short_description", 120),
        }
        self._methods = {name.lower(): (name, handler) for name, handler in handlers.items()}

    # --- lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application()
        app.router.add_get("/bot{token}/{method}", self._handle_api)
        app.router.add_post("/bot{token}/{method}", self._handle_api)
        app.router.add_post("/_control/message", self._control_message)
        app.router.add_get("/_control/sent", self._control_sent)
        app.router.add_get("/_control/commands", self._control_commands)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self._host = host
        self._port = self._runner.addresses[0][1]

    async def close(self) -> None:
        self._closing = True  # releases pending long polls so shutdown doesn't wait for them
        self._pulse()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotAPI is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """What PTB's base_url / TELEGRAM_API_BASE_URL should be; PTB appends the token."""
        return f"http://{self._host}:{self.port}/bot"

    # --- test-driving: chats, users, topics, permissions

    def register_chat(self, chat: JSONDict) -> None:
        """Make a chat known without an update mentioning it (otherwise: "chat not found")."""
        self._remember_chat(chat)

    def set_member(self, chat_id: int, member: JSONDict | int, status: MemberStatus) -> None:
        """Set what getChatMember answers for a user (or the bot: pass bot_user["id"])."""
        if isinstance(member, int):
            member = self._users.get(member) or user(member, f"User {member}")
        self._users.setdefault(member["id"], member)
        self._chat(chat_id).members[member["id"]] = status

    def set_can_delete(self, chat_id: int, allowed: bool) -> None:
        """Whether the bot may delete other people's messages in the chat."""
        self._chat(chat_id).can_delete = allowed

    def set_blocked(self, user_id: int, blocked: bool = True) -> None:
        """The user blocks the bot: writing to their private chat is 403 Forbidden."""
        self._chat(user_id).blocked = blocked

    def set_bot_status(self, chat: JSONDict, status: MemberStatus, by: JSONDict) -> int:
        """The bot's own membership changes, as `by` did it: removed from a group ("left",
        "kicked"), added back ("member"), or, in a private chat, blocked ("kicked") and
        unblocked ("member"). Enqueues the my_chat_member update Telegram sends; returns its id."""
        state = self._remember_chat(chat)
        self._users.setdefault(by["id"], by)
        bot_id = self.bot_user["id"]
        if chat["type"] == "private":
            old: MemberStatus = "kicked" if state.blocked else "member"
            state.blocked = status == "kicked"
        else:
            old = state.members.get(bot_id, "member")
            state.members[bot_id] = status
        return self._enqueue(
            {
                "my_chat_member": {
                    "chat": state.info,
                    "from": by,
                    "date": int(time.time()),
                    "old_chat_member": _chat_member(self.bot_user, old),
                    "new_chat_member": _chat_member(self.bot_user, status),
                }
            }
        )

    def migrate_group(self, chat_id: int, to: JSONDict, *, service_messages: bool = True) -> None:
        """Upgrade a group to the supergroup `to`, with Telegram's two service-message updates
        (service_messages=False: as if the bot never got them).

        Writing to the old id afterwards is 400 with parameters.migrate_to_chat_id."""
        old = self._chat(chat_id)
        new = self._remember_chat(to)
        old.migrated_to = new.id
        new.members = dict(old.members)
        for state, field_name, value in (
            (old, "migrate_to_chat_id", new.id),
            (new, "migrate_from_chat_id", old.id),
        ):
            message_id = state.next_message_id()
            message: JSONDict = {
                "message_id": message_id,
                "from": ANONYMOUS_ADMIN,
                "chat": state.info,
                "date": int(time.time()),
                field_name: value,
            }
            state.messages[message_id] = message
            if service_messages:
                self._enqueue({"message": message})

    def create_topic(self, chat: JSONDict, name: str = "Topic") -> int:
        """Open a forum topic; returns its message_thread_id."""
        state = self._remember_chat(chat)
        if not state.is_forum:
            raise ValueError("topics exist only in forum supergroups")
        thread_id = state.next_message_id()
        state.topics[thread_id] = _Topic(name)
        state.messages[thread_id] = self._topic_created_message(state, thread_id)
        return thread_id

    def close_topic(self, chat_id: int, thread_id: int) -> None:
        self._chat(chat_id).topics[thread_id].state = "closed"

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        state = self._chat(chat_id)
        state.topics[thread_id].state = "deleted"
        state.messages.pop(thread_id, None)

    def flood_limit(
        self, chat_id: int, n: int, retry_after: int = 1, window: float | None = None
    ) -> None:
        """After n sendMessage calls to the chat within `window` seconds (default retry_after),
        answer 429 "Too Many Requests: retry after N" until retry_after seconds pass."""
        window = float(retry_after) if window is None else window
        self._chat(chat_id).flood = _Flood(n, retry_after, window)

    # --- test-driving: updates

    def send_message(
        self,
        chat: JSONDict,
        sender: JSONDict | None,
        text: str,
        *,
        message_thread_id: int | None = None,
        is_topic_message: bool | None = None,
        sender_chat: JSONDict | None = None,
        reply_to: int | None = None,
        forward_origin: JSONDict | None = None,
    ) -> int:
        """Enqueue a `message` update as a user sent it; returns its message_id.

        sender=None is an anonymous group admin: from GroupAnonymousBot, sender_chat the group.
        In a forum, a message_thread_id makes it a topic message (is_topic_message defaults to
        True there) that replies to the topic's creation message, as Telegram shapes them.
        """
        state = self._remember_chat(chat)
        if sender is None:
            if chat["type"] == "private":
                raise ValueError("private chat messages need a sender")
            sender, sender_chat = ANONYMOUS_ADMIN, sender_chat or chat
        self._users.setdefault(sender["id"], sender)
        message: JSONDict = {
            "message_id": state.next_message_id(),
            "from": sender,
            "chat": state.info,
            "date": int(time.time()),
            "text": text,
        }
        if entities := command_entities(text):
            message["entities"] = entities
        if sender_chat is not None:
            message["sender_chat"] = sender_chat
        if forward_origin is not None:
            message["forward_origin"] = forward_origin
        if message_thread_id is not None:
            if is_topic_message is None:
                is_topic_message = state.is_forum
            if state.is_forum and message_thread_id not in state.topics:
                state.topics[message_thread_id] = _Topic(f"Topic {message_thread_id}")
            message["message_thread_id"] = message_thread_id
            if is_topic_message:
                message["is_topic_message"] = True
        if reply_to is None and message.get("is_topic_message"):
            reply_to = message_thread_id
        if reply_to is not None:
            replied = state.messages.get(reply_to) or self._topic_created_message(state, reply_to)
            message["reply_to_message"] = _without_reply(replied)
        state.messages[message["message_id"]] = message
        self._enqueue({"message": message})
        return int(message["message_id"])

    def delete_by_user(self, chat_id: int, message_id: int) -> None:
        """A user deletes their message (Telegram tells bots nothing about it)."""
        del self._chat(chat_id).messages[message_id]

    def edit_message(self, chat_id: int, message_id: int, text: str) -> None:
        """Enqueue an `edited_message` update for a message a user sent earlier."""
        state = self._chat(chat_id)
        message = state.messages[message_id]
        message = {**message, "text": text, "edit_date": int(time.time())}
        message.pop("entities", None)
        if entities := command_entities(text):
            message["entities"] = entities
        state.messages[message_id] = message
        self._enqueue({"edited_message": message})

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        by: JSONDict,
        text: str | None = None,
        *,
        data: str | None = None,
    ) -> str:
        """Enqueue a `callback_query` update: `by` taps the inline button labelled `text` under
        the bot's message (or, with `data`, a button carrying that callback_data, as a forged
        or outdated client may send). Returns the query id; read the answer with
        `wait_for_callback_answer`. Raises if the message has no such button."""
        state = self._chat(chat_id)
        message = state.messages.get(message_id)
        if message is None or message["from"]["id"] != self.bot_user["id"]:
            raise ValueError(f"no bot message {message_id} in chat {chat_id}")
        if data is None:
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            labels = {button["text"]: button.get("callback_data") for row in rows for button in row}
            if labels.get(text) is None:
                raise ValueError(f"no button {text!r} under the message; there are {list(labels)}")
            data = labels[text]
        self._users.setdefault(by["id"], by)
        query_id = str(self._last_update_id + 1)
        self._callback_queries.add(query_id)
        self._enqueue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": by,
                    "message": message,
                    "chat_instance": str(chat_id),
                    "data": data,
                }
            }
        )
        return query_id

    async def wait_for_callback_answer(
        self,
        query_id: str,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> JSONDict:
        """What the bot answered to a button press (answerCallbackQuery's parameters)."""
        if not await self._wait_until(lambda: query_id in self.callback_answers, timeout):
            raise TimeoutError(f"callback query {query_id} was not answered within {timeout} s")
        return self.callback_answers[query_id]

    def add_update(self, raw: JSONDict) -> int:
        """Enqueue any update dict (update_id is assigned when missing); returns the update_id.

        Chats and users it mentions become known."""
        self._learn_from(raw)
        return self._enqueue(raw)

    # --- test-driving: what the bot did

    def messages(self, chat_id: int, thread_id: int | None = None) -> list[SentMessage]:
        """Every message the bot sent to the chat (deleted ones have deleted=True)."""
        sent = self._chats[chat_id].sent if chat_id in self._chats else []
        return [m for m in sent if thread_id is None or m.message_thread_id == thread_id]

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """What setMyCommands stored for exactly this scope and language."""
        key = (self._scope_key(scope or {"type": "default"}), language_code)
        return self._commands.get(key, ({}, []))[1]

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - one deadline for the whole wait
        thread_id: int | None = None,
    ) -> list[SentMessage]:
        """Wait for `count` bot messages to the chat that no earlier call returned; return them.

        Raises TimeoutError naming what did arrive."""

        def unseen() -> list[SentMessage]:
            state = self._chats.get(chat_id)
            if state is None:
                return []
            return [
                m for m in self.messages(chat_id, thread_id) if m.message_id not in state.handed_out
            ]

        if not await self._wait_until(lambda: len(unseen()) >= count, timeout):
            texts = [m.text for m in unseen()]
            raise TimeoutError(f"expected {count} message(s) to chat {chat_id}, got {texts}")
        found = unseen()[:count]
        self._chats[chat_id].handed_out.update(m.message_id for m in found)
        return found

    async def wait_for_call(self, method: str, timeout: float = 10.0) -> Call:  # noqa: ASYNC109
        """Wait for the next call to `method` after the last one this returned."""

        def next_call() -> int | None:
            for index in range(self._calls_handed_out, len(self.calls)):
                if self.calls[index].method.lower() == method.lower():
                    return index
            return None

        if not await self._wait_until(lambda: next_call() is not None, timeout):
            raise TimeoutError(f"no {method} call within {timeout} s")
        index = next_call()
        assert index is not None
        self._calls_handed_out = index + 1
        return self.calls[index]

    # --- internals

    def _pulse(self) -> None:
        # Wakes every waiter; each re-checks its own condition. Sync so builders can call it.
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(self, ready: Callable[[], bool], timeout: float) -> bool:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not ready():
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return True

    def _enqueue(self, update: JSONDict) -> int:
        if "update_id" not in update:
            self._last_update_id += 1
            update = {"update_id": self._last_update_id, **update}
        self._last_update_id = max(self._last_update_id, update["update_id"])
        self._updates.append(update)
        self._pulse()
        return int(update["update_id"])

    def _learn_from(self, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in {"chat", "sender_chat"} and isinstance(item, dict) and "type" in item:
                    self._remember_chat(item)
                elif key == "from" and isinstance(item, dict):
                    self._users.setdefault(item["id"], item)
                self._learn_from(item)
        elif isinstance(value, list):
            for item in value:
                self._learn_from(item)

    def _remember_chat(self, chat: JSONDict) -> _Chat:
        state = self._chats.get(chat["id"])
        if state is None:
            state = self._chats[chat["id"]] = _Chat(info=chat)
        if chat["type"] == "private":
            self._users.setdefault(chat["id"], {"id": chat["id"], "is_bot": False, **chat})
        return state

    def _chat(self, chat_id: int) -> _Chat:
        state = self._chats.get(chat_id)
        if state is None:
            raise KeyError(f"chat {chat_id} is unknown: send a message there or register it")
        return state

    def _topic_created_message(self, state: _Chat, thread_id: int) -> JSONDict:
        topic = state.topics.get(thread_id) or _Topic(f"Topic {thread_id}")
        return {
            "message_id": thread_id,
            "from": self.bot_user,
            "chat": state.info,
            "date": int(time.time()),
            "message_thread_id": thread_id,
            "forum_topic_created": {"name": topic.name, "icon_color": 0x6FB9F0},
            "is_topic_message": True,
        }

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        logger.info("%s %s", call.method, call.params)
        self._pulse()

    # --- HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        name, handler = self._methods.get(method.lower(), (method, None))
        try:
            params = await _read_params(request)
        except BotAPIError as error:
            self._record(Call(name, {}, time.monotonic()))
            return error.response()
        try:
            if request.match_info["token"] != self.token:
                raise BotAPIError(401, "Unauthorized")
            if handler is None:
                raise BotAPIError(404, "Not Found")
            params = {key: _coerce(key, value) for key, value in params.items()}
        except BotAPIError as error:
            self._record(Call(name, params, time.monotonic()))
            return error.response()
        self._record(Call(name, params, time.monotonic()))
        try:
            result = await handler(params)
        except BotAPIError as error:
            return error.response()
        except Exception as error:  # a bug in the fake or a request it does not model
            logger.exception("FakeBotAPI failed on %s", name)
            return BotAPIError(500, f"Internal Server Error: {error!r}").response()
        return web.json_response({"ok": True, "result": result})

    async def _not_found(self, request: web.Request) -> web.Response:
        return BotAPIError(404, "Not Found").response()

    async def _control_message(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            sender, chat = self._control_chat(body)
        except (KeyError, ValueError) as error:
            return web.json_response({"error": str(error)}, status=400)
        if status := body.get("member_status"):
            self.register_chat(chat)  # a group this message creates must exist to have members
            self.set_member(chat["id"], sender, status)
        message_id = self.send_message(
            chat, sender, str(body["text"]), message_thread_id=body.get("message_thread_id")
        )
        return web.json_response({"chat_id": chat["id"], "message_id": message_id})

    def _control_chat(self, body: JSONDict) -> tuple[JSONDict, JSONDict]:
        user_id = int(body["user_id"])
        sender = self._users.get(user_id) or user(
            user_id,
            body.get("first_name", "Demo"),
            body.get("username"),
            body.get("language_code", "en"),
        )
        chat_type = body.get("chat_type", "private")
        chat_id = int(body.get("chat_id", user_id))
        if chat_id in self._chats:
            return sender, self._chats[chat_id].info
        if chat_type == "private":
            if chat_id != user_id:
                raise ValueError("a private chat's id is the user's id")
            return sender, private_chat(sender)
        title = body.get("title", "Demo group")
        if chat_type == "group":
            return sender, group(chat_id, title)
        if chat_type == "supergroup":
            forum = bool(body.get("is_forum") or body.get("message_thread_id"))
            return sender, supergroup(chat_id, title, is_forum=forum)
        raise ValueError(f"unknown chat_type {chat_type!r}")

    async def _control_sent(self, request: web.Request) -> web.Response:
        chat_id = int(request.query["chat_id"])
        after = int(request.query.get("after", 0))
        wait = float(request.query.get("wait", 0))

        def newer() -> list[SentMessage]:
            return [m for m in self.messages(chat_id) if m.message_id > after]

        await self._wait_until(lambda: bool(newer()), wait)
        return web.json_response({"messages": [dataclasses.asdict(m) for m in newer()]})

    async def _control_commands(self, request: web.Request) -> web.Response:
        stored = [
            {"scope": scope, "language_code": language_code, "commands": commands}
            for (_, language_code), (scope, commands) in self._commands.items()
        ]
        return web.json_response(stored)

    # --- Bot API methods

    def _known_chat(self, params: JSONDict, name: str = "chat_id") -> _Chat:
        chat_id = params.get(name)
        if chat_id is None or chat_id == "":
            raise _bad_request(f"{name} is empty")
        if isinstance(chat_id, str):  # @username
            for known in self._chats.values():
                if f"@{known.info.get('username', '')}".lower() == chat_id.lower():
                    return known
            raise _bad_request("chat not found")
        state = self._chats.get(chat_id)
        if state is None:
            raise _bad_request("chat not found")
        return state

    async def _accept(self, params: JSONDict) -> bool:
        return True

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _delete_webhook(self, params: JSONDict) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        offset = params.get("offset") or 0
        limit = min(max(params.get("limit") or 100, 1), 100)
        timeout = max(params.get("timeout") or 0, 0)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"] or []
            self._allowed_updates = frozenset(allowed) if allowed else None
        if offset > 0:  # confirms every update before it
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self._drop_unwanted_updates()
        await self._wait_until(lambda: self._drop_unwanted_updates() > 0, timeout)
        return self._updates[:limit]

    def _drop_unwanted_updates(self) -> int:
        """Forget updates of types the bot did not ask for; return how many are left."""

        def wanted(update: JSONDict) -> bool:
            kind = next(key for key in update if key != "update_id")
            if self._allowed_updates is None:
                return kind not in _OPT_IN_UPDATES
            return kind in self._allowed_updates

        self._updates = [u for u in self._updates if wanted(u)]
        return len(self._updates)

    def _scope_key(self, scope: JSONDict) -> str:
        if "chat_id" in scope:
            scope = {**scope, "chat_id": _coerce("chat_id", scope["chat_id"])}
        return json.dumps(scope, sort_keys=True)

    def _command_key(self, params: JSONDict) -> tuple[JSONDict, tuple[str, str]]:
        scope = params.get("scope") or {"type": "default"}
        if "chat_id" in scope:
            self._known_chat(scope)
        language_code = params.get("language_code") or ""
        if not _LANGUAGE_CODE.fullmatch(language_code):
            raise _bad_request("invalid language code specified")
        return scope, (self._scope_key(scope), language_code)

    async def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("too many commands specified")
        for command in commands:
            if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad_request("command description must be non-empty")
        scope, key = self._command_key(params)
        self._commands[key] = (scope, commands)
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        _, key = self._command_key(params)
        return self._commands.get(key, ({}, []))[1]

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        _, key = self._command_key(params)
        self._commands.pop(key, None)
        return True

    def _set_description(self, name: str, max_length: int) -> Callable[[JSONDict], Awaitable[bool]]:
        async def set_description(params: JSONDict) -> bool:
            text = params.get(name) or ""
            if len(text) > max_length:
                raise _bad_request(f"{name.replace('_', ' ')} is too long")
            self.descriptions[(name, params.get("language_code") or "")] = text
            return True

        return set_description

    async def _set_chat_menu_button(self, params: JSONDict) -> bool:
        chat_id = self._known_chat(params).id if "chat_id" in params else None
        self.menu_buttons[chat_id] = params.get("menu_button") or {"type": "default"}
        return True

    def _check_flood(self, state: _Chat) -> None:
        flood = state.flood
        if flood is None:
            return
        now = time.monotonic()
        while flood.sent and flood.sent[0] <= now - flood.window:
            flood.sent.popleft()
        if now < flood.blocked_until or len(flood.sent) >= flood.limit:
            if now >= flood.blocked_until:
                flood.blocked_until = now + flood.retry_after
            retry_after = max(round(flood.blocked_until - now), 1)
            raise BotAPIError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        flood.sent.append(now)

    def _thread_for(self, state: _Chat, params: JSONDict, replied: JSONDict | None) -> int | None:
        thread_id = params.get("message_thread_id")
        if thread_id is None and replied is not None and replied.get("is_topic_message"):
            thread_id = replied["message_thread_id"]  # a reply lands in the replied topic
        if thread_id is None or not state.is_forum:
            return thread_id
        topic = state.topics.get(thread_id)
        if topic is None or topic.state == "deleted":
            raise _bad_request("message thread not found")
        if topic.state == "closed":
            raise _bad_request("TOPIC_CLOSED")
        return int(thread_id)

    def _replied_message(self, state: _Chat, params: JSONDict) -> JSONDict | None:
        reply = params.get("reply_parameters") or {}
        if not reply and "reply_to_message_id" in params:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        if not reply:
            return None
        target = self._known_chat(reply) if "chat_id" in reply else state
        replied = target.messages.get(int(reply.get("message_id") or 0))
        if replied is None and not reply.get("allow_sending_without_reply"):
            raise _bad_request("message to be replied not found")
        return replied

    def _writable_chat(self, params: JSONDict) -> _Chat:
        """The chat the bot is about to write to, refused as Telegram refuses it."""
        state = self._known_chat(params)
        if state.migrated_to is not None:
            raise BotAPIError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=state.migrated_to,
            )
        if state.blocked:
            raise BotAPIError(403, "Forbidden: bot was blocked by the user")
        status = state.members.get(self.bot_user["id"])
        if status == "kicked":
            kind = "supergroup" if state.info["type"] == "supergroup" else "group"
            raise BotAPIError(403, f"Forbidden: bot was kicked from the {kind} chat")
        if status == "left":
            raise BotAPIError(403, "Forbidden: bot is not a member of the group chat")
        return state

    async def _send_message(self, params: JSONDict) -> JSONDict:
        state = self._writable_chat(params)
        self._check_flood(state)
        text, entities = _formatted_text(params)
        _check_reply_markup(params.get("reply_markup"))
        replied = self._replied_message(state, params)
        thread_id = self._thread_for(state, params, replied)
        message: JSONDict = {
            "message_id": state.next_message_id(),
            "from": self.bot_user,
            "chat": state.info,
            "date": int(time.time()),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if state.is_forum:
                message["is_topic_message"] = True
        if replied is not None:
            message["reply_to_message"] = _without_reply(replied)
        if "inline_keyboard" in (params.get("reply_markup") or {}):
            message["reply_markup"] = params["reply_markup"]
        if params.get("link_preview_options"):
            message["link_preview_options"] = params["link_preview_options"]
        state.messages[message["message_id"]] = message
        state.sent.append(
            SentMessage(
                chat_id=state.id,
                message_id=message["message_id"],
                text=text,
                raw_text=params["text"],
                parse_mode=params.get("parse_mode") or None,
                entities=entities,
                message_thread_id=thread_id,
                reply_to_message_id=replied["message_id"] if replied else None,
                reply_markup=params.get("reply_markup"),
                link_preview_options=params.get("link_preview_options"),
                date=message["date"],
            )
        )
        self._pulse()
        return message

    async def _edit_message_text(self, params: JSONDict) -> JSONDict:
        if "inline_message_id" in params:
            raise _bad_request("inline messages are not supported by this fake")
        state = self._writable_chat(params)
        message_id = int(params.get("message_id") or 0)
        message = state.messages.get(message_id)
        if message is None:
            raise _bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_user["id"] or "text" not in message:
            raise _bad_request("message can't be edited")
        text, entities = _formatted_text(params)
        _check_reply_markup(params.get("reply_markup"))
        sent = next(m for m in state.sent if m.message_id == message_id)
        if (text, entities, params.get("reply_markup")) == (
            sent.text,
            sent.entities,
            sent.reply_markup,
        ):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message = {**message, "text": text, "edit_date": int(time.time())}
        message.pop("entities", None)
        message.pop("reply_markup", None)
        if entities:
            message["entities"] = entities
        if "inline_keyboard" in (params.get("reply_markup") or {}):
            message["reply_markup"] = params["reply_markup"]
        state.messages[message_id] = message
        sent.text, sent.raw_text, sent.entities = text, params["text"], entities
        sent.parse_mode = params.get("parse_mode") or None
        sent.reply_markup = params.get("reply_markup")
        sent.edit_count += 1
        self._pulse()
        return message

    def _bot_can_delete_others(self, state: _Chat) -> bool:
        if state.can_delete is not None:
            return state.can_delete
        if state.info["type"] == "private":
            return True
        return state.members.get(self.bot_user["id"]) in {"administrator", "creator"}

    async def _delete_message(self, params: JSONDict) -> bool:
        state = self._known_chat(params)
        message_id = int(params.get("message_id") or 0)
        message = state.messages.get(message_id)
        if message is None:
            raise _bad_request("message to delete not found")
        from_bot = message["from"]["id"] == self.bot_user["id"]
        if not from_bot and not self._bot_can_delete_others(state):
            raise _bad_request("message can't be deleted")
        del state.messages[message_id]
        for sent in state.sent:
            if sent.message_id == message_id:
                sent.deleted = True
        self.deleted.append((state.id, message_id))
        self._pulse()
        return True

    async def _get_chat(self, params: JSONDict) -> JSONDict:
        state = self._known_chat(params)
        return state.info | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _status(self, state: _Chat, user_id: int) -> MemberStatus:
        if state.info["type"] == "private":
            if user_id not in {state.id, self.bot_user["id"]}:
                raise _bad_request("user not found")
            return "member"
        return state.members.get(user_id, "member")

    async def _get_chat_member(self, params: JSONDict) -> JSONDict:
        state = self._known_chat(params)
        user_id = params.get("user_id")
        member = self._users.get(user_id) if user_id is not None else None
        if member is None:
            raise _bad_request("user not found")
        return _chat_member(member, self._status(state, member["id"]))

    async def _get_chat_administrators(self, params: JSONDict) -> list[JSONDict]:
        state = self._known_chat(params)
        if state.info["type"] == "private":
            raise _bad_request("there are no administrators in the private chat")
        return [
            _chat_member(self._users[user_id], status)
            for user_id, status in state.members.items()
            if status in {"creator", "administrator"}
        ]

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callback_queries:  # unknown, or answered already
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(params.get("text") or "") > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._callback_queries.discard(query_id)
        self.callback_answers[query_id] = params
        self._pulse()
        return True

    async def _send_chat_action(self, params: JSONDict) -> bool:
        self._writable_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong type of action")
        return True


async def _serve(host: str, port: int, token: str) -> None:
    fake = FakeBotAPI(token=token)
    await fake.start(host, port)
    try:
        print(f"Fake Bot API: TELEGRAM_API_BASE_URL={fake.base_url}", flush=True)
        await asyncio.Event().wait()
    finally:
        await fake.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=FakeBotAPI().token)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.token))


if __name__ == "__main__":
    main()
