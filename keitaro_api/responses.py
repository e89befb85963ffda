"""The one place that turns an HTTP answer into parsed JSON or into a :mod:`~keitaro_api.errors`.

Every response the client receives goes through :func:`parse_response`, so each status, body
shape and proxy quirk listed in API.md is handled exactly once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from time import time
from typing import Any

from yarl import URL

from keitaro_api.errors import (
    ApiError,
    AuthError,
    BadRequest,
    BadResponse,
    CloudflareBlocked,
    EditionError,
    KeitaroError,
    NotAnApiResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    RedirectRefused,
    ServerError,
    ValidationError,
)

__all__ = ["parse_response"]

_ERROR_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: AuthError,
    402: EditionError,
    403: PermissionDenied,
    404: NotFound,
    406: ValidationError,
    422: ValidationError,
    429: RateLimited,
}
# The message is one short line: structure nested deeper than this adds nothing to it.
_MAX_MESSAGE_DEPTH = 10
_WHITESPACE_AND_BOM = b" \t\r\n\x0b\x0c\xef\xbb\xbf"
# "Error 1010", "Error code: 1020" or "<span>Error</span> <span class="cf-error-code">1010</span>".
_CLOUDFLARE_CODE_RE = re.compile(
    rb"error(?:\s|&nbsp;|code:?|<[^<>]{0,80}>)*(1\d{3})\b", re.IGNORECASE
)


def parse_response(status: int, headers: Mapping[str, str], body: bytes) -> Any:
    """Return the decoded JSON of a successful answer, or raise the error it represents.

    ``headers`` is any case-insensitive mapping (aiohttp's ``CIMultiDictProxy``) or a plain dict
    with canonical names. The body of a web page never ends up in an error message.
    """
    if 300 <= status < 400:
        host = _location_host(headers.get("Location"))
        where = f" to {host}" if host else ""
        raise RedirectRefused(
            f"HTTP {status}: the tracker redirects{where}; use the final tracker address",
            status=status,
            location_host=host,
        )

    if _is_web_page(headers, body):
        raise _web_page_error(status, headers, body)

    if status >= 400 or status < 200:
        raise _api_error(status, headers, body)

    if not body.strip(_WHITESPACE_AND_BOM):
        if status == 204:
            return None
        raise BadResponse(f"HTTP {status}: empty answer where JSON was expected", status=status)
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested beyond the stack
        raise BadResponse(f"HTTP {status}: the answer is not valid JSON", status=status) from None


def _content_type(headers: Mapping[str, str]) -> str:
    return headers.get("Content-Type", "").partition(";")[0].strip().lower()


def _is_web_page(headers: Mapping[str, str], body: bytes) -> bool:
    return _content_type(headers) in ("text/html", "application/xhtml+xml") or body.lstrip(
        _WHITESPACE_AND_BOM
    ).startswith(b"<")


def _web_page_error(status: int, headers: Mapping[str, str], body: bytes) -> KeitaroError:
    from_cloudflare = "cloudflare" in headers.get("Server", "").lower()
    if status == 403 and (from_cloudflare or b"cloudflare" in body.lower()):
        # Only the error number is taken from the page, never its text.
        match = _CLOUDFLARE_CODE_RE.search(body)
        code = f"Error {match.group(1).decode()}: " if match else ""
        return CloudflareBlocked(
            f"{code}Access denied by Cloudflare in front of the tracker", status=status
        )
    if status == 429:
        return RateLimited(
            "HTTP 429: too many requests", retry_after=_retry_after(headers), status=status
        )
    hint = ": check the URL" if status < 300 else ""
    return NotAnApiResponse(
        f"HTTP {status}: the tracker answered with a web page, not the API{hint}", status=status
    )


def _api_error(status: int, headers: Mapping[str, str], body: bytes) -> KeitaroError:
    text = body.decode("utf-8-sig", errors="replace").strip()
    try:
        data: Any = json.loads(text) if text else None
    except (ValueError, RecursionError):
        data = None  # text/plain, as live trackers send for 404

    if isinstance(data, dict) and data.get("cloudflare_error") is True:
        title = data.get("title") or data.get("detail")
        if not isinstance(title, str) or not title.strip():
            title = f"Error {data.get('error_code', status)}: blocked by Cloudflare"
        return CloudflareBlocked(title, status=status)

    message = _api_message(data) if data is not None else text
    if not message:
        message = _reason(status)  # the reply shows the status beside it already
    error_class = _ERROR_BY_STATUS.get(status)
    if error_class is RateLimited:
        return RateLimited(message, status=status, retry_after=_retry_after(headers))
    if error_class is None:
        error_class = ServerError if status >= 500 else ApiError
    return error_class(message, status=status)


def _api_message(data: Any, depth: int = 0) -> str:
    """The API's own words: ``{"error": ...}``, a field map, or whatever text it holds."""
    if isinstance(data, str):
        return data
    if depth >= _MAX_MESSAGE_DEPTH:
        return "…"
    depth += 1
    if isinstance(data, list):
        return "; ".join(_api_message(item, depth) for item in data)
    if not isinstance(data, dict):
        return json.dumps(data)
    for key in ("error", "message", "detail", "title"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, dict | list) and value:
            return _api_message(value, depth)
    # 406/422: {"alias": ["Alias has already used"], "name": ["..."]}
    return "; ".join(
        f"{field}: {_api_message(problems, depth)}"
        for field, problems in data.items()
        if problems not in (None, "", [], {})
    )


def _location_host(location: str | None) -> str | None:
    """The host a redirect points to, if its Location header can be read at all."""
    if not location:
        return None
    try:
        return URL(location).host
    except ValueError:  # "http://[::1", a port out of range, a host IDNA refuses
        return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time())
    except (TypeError, ValueError):
        return None


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"
