"""What the bot says: replies built from the catalogues, ready to send as Telegram HTML."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.formatting import MESSAGE_LIMIT, Markup, escape, split_html, utf16_len, visible_length
from bot.i18n import plural, t
from keitaro_api import (
    ApiError,
    AuthError,
    BadResponse,
    CloudflareBlocked,
    ForbiddenAddress,
    KeitaroError,
    NotAnApiResponse,
    PostbackLookup,
    RedirectRefused,
    RequestRecord,
    ResponseTooLarge,
    TrackerTimeout,
    TransportError,
)

MAX_POSTBACK_ID = 2_147_483_647  # Keitaro ids are 32-bit signed integers (MySQL INT)


def postback_reply(lang: str, lookup: PostbackLookup, tracker: str) -> list[str]:
    """A postback at a glance on a phone: a bold title naming the postback and its campaign,
    short labelled lines (campaign id and state, method, statuses, tracker), then the URL.

    A URL too long for one message is sent in labelled parts, cut after a ``&`` where possible,
    so every parameter arrives whole.
    """
    postback, campaign = lookup.postback, lookup.campaign
    unknown = t(lang, "postback.unknown")
    statuses = ", ".join(postback.statuses) if postback.statuses else None
    title = (
        t(lang, "postback.title", id=postback.id, campaign=campaign.name)
        if campaign.name
        else t(lang, "postback.title_unnamed", id=postback.id)
    )
    head = [
        title,
        t(lang, "postback.campaign", campaign_id=campaign.id, state=campaign.state or unknown),
        t(lang, "postback.method", method=postback.method or unknown),
        t(lang, "postback.statuses", statuses=statuses or t(lang, "postback.no_statuses")),
        t(lang, "postback.tracker", tracker=tracker),
    ]
    if not postback.url:
        return split_html("\n".join([*head, t(lang, "postback.no_url")]))
    whole = "\n".join([*head, t(lang, "postback.url"), _pre(postback.url)])
    if visible_length(whole) <= MESSAGE_LIMIT:
        return [whole]
    parts = _cut_url(postback.url, URL_PART_SIZE)
    return split_html("\n".join(head)) + [
        f"{t(lang, 'postback.url_part', part=number, parts=len(parts))}\n{_pre(part)}"
        for number, part in enumerate(parts, 1)
    ]


# Room for the "URL, part 1 of 3:" label in a message; in UTF-16 units, like Telegram counts.
URL_PART_SIZE = MESSAGE_LIMIT - 96


def _pre(text: str) -> Markup:
    return Markup(f"<pre>{escape(text)}</pre>")


def _cut_url(url: str, size: int) -> list[str]:
    parts: list[str] = []
    while utf16_len(url) > size:
        cut = size
        while utf16_len(url[:cut]) > size:
            cut -= 1
        # Prefer to cut right after a parameter separator in the second half of the part.
        separator = max(url.rfind("&", cut // 2, cut), url.rfind("?", cut // 2, cut))
        if separator > 0:
            cut = separator + 1
        parts.append(url[:cut])
        url = url[cut:]
    parts.append(url)
    return parts


def connected_reply(lang: str, tracker: str, masked_key: str, campaigns: int) -> Markup:
    return t(
        lang,
        "connect.done",
        tracker=tracker,
        key=masked_key,
        campaigns=plural(lang, "campaigns", campaigns),
    )


def status_reply(
    lang: str, tracker: str, masked_key: str, who: str | None, when: datetime
) -> Markup:
    return t(
        lang,
        "status.connected",
        tracker=tracker,
        key=masked_key,
        who=who or t(lang, "status.anonymous_admin"),
        when=when.strftime("%Y-%m-%d %H:%M"),
    )


def error_text(lang: str, error: KeitaroError, timeout: float) -> Markup:
    """One line naming the cause: the tracker's own message and HTTP status where it gave one."""
    status = error.status if error.status is not None else "?"
    if isinstance(error, AuthError):
        return t(lang, "error.auth", status=status, message=error.message)
    if isinstance(error, ApiError):
        return t(lang, "error.api", status=status, message=error.message)
    if isinstance(error, CloudflareBlocked):
        return t(lang, "error.cloudflare", status=status, message=error.message)
    if isinstance(error, NotAnApiResponse):
        if error.status is not None and error.status >= 500:
            return t(lang, "error.server_page", status=status)
        return t(lang, "error.web_page", status=status)
    if isinstance(error, ResponseTooLarge):
        return t(lang, "error.too_large")
    if isinstance(error, BadResponse):
        return t(lang, "error.bad_response", message=error.message)
    if isinstance(error, RedirectRefused):
        location = error.location_host or "?"
        return t(lang, "error.redirect", status=status, location=location)
    if isinstance(error, ForbiddenAddress):
        return t(lang, "error.forbidden_address", message=error.message)
    if isinstance(error, TrackerTimeout):
        return t(lang, "error.timeout", seconds=f"{error.timeout or timeout:g}")
    if isinstance(error, TransportError):
        return t(lang, "error.transport", message=_transport_cause(lang, error))
    return t(lang, "error.api", status=status, message=error.message)


# --- Buttons ------------------------------------------------------------------------------------
# Everything a button needs is in its callback_data (at most 64 bytes), so buttons keep working
# after a restart: "pb:r:<chat_id>:<postback_id>" refreshes, "pb:d:..." shows the details.

ButtonAction = Literal["r", "d"]
_BUTTON = re.compile(r"pb:([rd]):(-?[0-9]{1,19}):([0-9]{1,10})", re.ASCII)


@dataclass(frozen=True)
class ButtonPress:
    action: ButtonAction
    chat_id: int
    postback_id: int


def parse_button(data: str) -> ButtonPress | None:
    """The press a button's callback_data stands for; None for anything not made by us."""
    match = _BUTTON.fullmatch(data)
    if match is None:
        return None
    action, chat_id, postback_id = match.groups()
    if not 1 <= int(postback_id) <= MAX_POSTBACK_ID:
        return None
    return ButtonPress(action, int(chat_id), int(postback_id))  # type: ignore[arg-type]


def postback_buttons(
    lang: str, chat_id: int, postback_id: int, *, failed: bool = False
) -> InlineKeyboardMarkup:
    """Refresh and Details under a reply; a failed lookup gets Retry and Details (the error)."""
    refresh = t(lang, "button.retry" if failed else "button.refresh")
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(refresh, callback_data=f"pb:r:{chat_id}:{postback_id}"),
                InlineKeyboardButton(
                    t(lang, "button.details"), callback_data=f"pb:d:{chat_id}:{postback_id}"
                ),
            ]
        ]
    )


# --- Details ------------------------------------------------------------------------------------


def details_record(
    request: RequestRecord | None,
    lookup: PostbackLookup | None = None,
    error: KeitaroError | None = None,
) -> dict[str, Any]:
    """The full record of one lookup: what was asked (the key masked), what came back, and the
    error if there was one. The campaign's Click API token is left out."""
    record: dict[str, Any] = {
        "request": request.model_dump(mode="json") if request else None,
        "resource": "postback",
        "operation": "get",
        "data": None,
    }
    if lookup is not None:
        record["data"] = {
            "postback": lookup.postback.model_dump(mode="json"),
            # Its postbacks are left out too: the one asked about is above, the rest is noise.
            "campaign": lookup.campaign.model_dump(mode="json", exclude={"token", "postbacks"}),
        }
    if error is not None:
        record["error"] = {
            "type": type(error).__name__,
            "status": error.status,
            "message": error.message,
        }
    return record


def details_reply(lang: str, postback_id: int, record: dict[str, Any]) -> list[str]:
    """The record as indented JSON in a monospace block, split into messages if long."""
    pretty = json.dumps(record, indent=2, ensure_ascii=False, default=str)
    return split_html(f"{t(lang, 'details.title', id=postback_id)}\n{_pre(pretty)}")


def _transport_cause(lang: str, error: TransportError) -> Markup:
    """The client's cause code in the reader's language, with any detail (OpenSSL's reason)."""
    if error.cause is None:
        return escape(error.message)
    detail = f": {error.detail}" if error.detail else ""
    return Markup(t(lang, f"cause.{error.cause}") + escape(detail))
