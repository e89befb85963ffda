"""What the bot says: replies built from the catalogues, ready to send as Telegram HTML."""

from __future__ import annotations

from datetime import datetime

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
    ResponseTooLarge,
    TrackerTimeout,
    TransportError,
)

MAX_POSTBACK_ID = 2_147_483_647  # Keitaro ids are 32-bit signed integers (MySQL INT)


def postback_reply(lang: str, lookup: PostbackLookup, tracker: str) -> list[str]:
    """A postback at a glance: title, campaign, method, statuses, tracker, then the URL.

    A URL too long for one message is sent in labelled parts, cut after a ``&`` where possible,
    so every parameter arrives whole.
    """
    postback, campaign = lookup.postback, lookup.campaign
    unknown = t(lang, "postback.unknown")
    statuses = ", ".join(postback.statuses) if postback.statuses else None
    head = [
        t(lang, "postback.title", id=postback.id),
        t(
            lang,
            "postback.campaign",
            name=campaign.name or unknown,
            campaign_id=campaign.id,
            state=campaign.state or unknown,
        ),
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
        return t(lang, "error.transport", message=error.message)
    return t(lang, "error.api", status=status, message=error.message)
