"""The one exception tree of the Keitaro client.

Modelled on python-telegram-bot's ``telegram/error.py``: ``str(error)`` is the message (the
tracker's own text when it sent one), and every error carries ``status`` (HTTP status or
``None``), ``message`` (one clean line) and ``request`` (the masked :class:`RequestRecord` of the
request that failed, attached by the client). No error ever holds the API key.

    KeitaroError
    ├── ApiError: the tracker answered with an API error
    │   ├── BadRequest (400), AuthError (401), EditionError (402), PermissionDenied (403)
    │   ├── NotFound (404) └── PostbackNotFound
    │   ├── ValidationError (406, 422), RateLimited (429), ServerError (5xx)
    ├── CloudflareBlocked, NotAnApiResponse, BadResponse, ResponseTooLarge, RedirectRefused
    └── ForbiddenAddress, TrackerTimeout, TransportError └── CertificateError
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keitaro_api.models import RequestRecord

__all__ = [
    "TRANSPORT_CAUSES",
    "ApiError",
    "AuthError",
    "BadRequest",
    "BadResponse",
    "CertificateError",
    "CloudflareBlocked",
    "EditionError",
    "ForbiddenAddress",
    "KeitaroError",
    "NotAnApiResponse",
    "NotFound",
    "PermissionDenied",
    "PostbackNotFound",
    "RateLimited",
    "RedirectRefused",
    "ResponseTooLarge",
    "ServerError",
    "TrackerTimeout",
    "TransportError",
    "ValidationError",
    "clean_message",
]

MAX_MESSAGE_LENGTH = 300
_UNPRINTABLE_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]+")
_SPACES_RE = re.compile(r"\s+")


def clean_message(text: str, limit: int = MAX_MESSAGE_LENGTH) -> str:
    """One line of text: control characters removed, whitespace collapsed, at most ``limit``."""
    text = _SPACES_RE.sub(" ", _UNPRINTABLE_RE.sub(" ", text)).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


class KeitaroError(Exception):
    """Base of every error raised by :mod:`keitaro_api`."""

    default_message = "the tracker request failed"

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        request: RequestRecord | None = None,
    ) -> None:
        self.message = clean_message(message) or self.default_message
        self.status = status
        self.request = request
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[object, ...]:
        # Subclasses take keyword-only arguments, so the default (cls(*args)) cannot rebuild them.
        return (_rebuild, (type(self), dict(self.__dict__)))

    def _replace_message(self, message: str) -> None:
        """Used by the client to scrub a key a tracker might have echoed back."""
        self.message = message
        self.args = (message,)


def _rebuild(cls: type[KeitaroError], state: dict[str, object]) -> KeitaroError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    error.args = (error.message,)
    return error


class ApiError(KeitaroError):
    """The tracker answered with an Admin API error; ``message`` is the API's own text."""


class BadRequest(ApiError):
    """400: the API rejected the request."""


class AuthError(ApiError):
    """401: wrong, revoked or missing API key."""

    default_message = "Unauthorized"


class EditionError(ApiError):
    """402: the tracker's edition has no Admin API."""


class PermissionDenied(ApiError):
    """403 from Keitaro itself: the key belongs to a user without access to this."""


class NotFound(ApiError):
    """404: no such object (live trackers answer text/plain ``... #42 not found``)."""


class PostbackNotFound(NotFound):
    """No campaign of the tracker holds the postback."""

    def __init__(self, postback_id: int, tracker: str, *, request: RequestRecord | None = None):
        self.postback_id = postback_id
        self.tracker = tracker
        super().__init__(f"postback #{postback_id} not found on {tracker}", request=request)


class ValidationError(ApiError):
    """406 or 422: the API's field map, joined as ``field: problem; field: problem``."""


class RateLimited(ApiError):
    """429: too many requests; ``retry_after`` seconds when the tracker said so."""

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = 429,
        request: RequestRecord | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, status=status, request=request)


class ServerError(ApiError):
    """5xx with an API error body: the tracker failed."""


class CloudflareBlocked(KeitaroError):
    """Cloudflare in front of the tracker refused the request (e.g. ``Error 1010``)."""


class NotAnApiResponse(KeitaroError):
    """A web page (or other non-JSON) came back where the API answers JSON: usually a wrong URL,
    or a proxy (nginx, Cloudflare) answering for a tracker that is down. The page is never kept."""


class BadResponse(KeitaroError):
    """Invalid JSON, or JSON of a shape the client does not understand."""


class ResponseTooLarge(KeitaroError):
    """The answer was larger than the client's body cap."""


class RedirectRefused(KeitaroError):
    """The tracker answered with a redirect; it is never followed (the key would go along)."""

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        request: RequestRecord | None = None,
        location_host: str | None = None,
    ) -> None:
        self.location_host = location_host
        super().__init__(message, status=status, request=request)


class ForbiddenAddress(KeitaroError):
    """The tracker host is, or resolves to, a loopback/private/reserved address."""


class TrackerTimeout(KeitaroError):
    """No answer within ``timeout`` seconds."""

    def __init__(
        self,
        message: str = "",
        *,
        timeout: float,
        request: RequestRecord | None = None,
    ) -> None:
        self.timeout = timeout
        super().__init__(message or f"no answer within {timeout:g} s", request=request)


# Why a request did not get through: a stable code (for translations) and its English wording.
TRANSPORT_CAUSES = {
    "tls_verify": "TLS certificate verification failed",
    "tls_handshake": "TLS handshake failed",
    "host_not_found": "host not found",
    "refused": "connection refused",
    "unreachable": "host unreachable",
    "could_not_connect": "could not connect",
    "reset": "connection reset",
    "broke": "the connection broke while reading the answer",
    "malformed": "malformed HTTP answer",
    "invalid_address": "invalid address",
}


class TransportError(KeitaroError):
    """The request did not get through: refused, DNS, TLS, reset.

    ``cause`` is a code from :data:`TRANSPORT_CAUSES` (None when none fits) and ``detail`` an
    optional addition, such as OpenSSL's reason; ``message`` is the two in English.
    """

    def __init__(
        self,
        message: str = "",
        *,
        cause: str | None = None,
        detail: str = "",
        status: int | None = None,
        request: RequestRecord | None = None,
    ) -> None:
        self.cause = cause
        self.detail = detail
        if not message and cause is not None:
            message = TRANSPORT_CAUSES[cause] + (f": {detail}" if detail else "")
        super().__init__(message, status=status, request=request)


class CertificateError(TransportError):
    """The tracker's TLS certificate did not verify: self-signed, expired, for another host.

    A tracker the operator trusts anyway can be used with ``Tracker(verify_tls=False)``.
    """
