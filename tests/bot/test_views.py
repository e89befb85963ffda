"""Every tracker failure becomes one line a person can act on, in both languages."""

from __future__ import annotations

import pytest

from bot import views
from bot.formatting import visible_length
from keitaro_api import (
    AuthError,
    BadResponse,
    CloudflareBlocked,
    EditionError,
    ForbiddenAddress,
    KeitaroError,
    NotAnApiResponse,
    PermissionDenied,
    RateLimited,
    RedirectRefused,
    ResponseTooLarge,
    ServerError,
    TrackerTimeout,
    TransportError,
    ValidationError,
)
from tests.fakes.bot_api import parse_html

CASES = [
    (AuthError("Unauthorized", status=401), ["401", "Unauthorized"]),
    (EditionError("Admin API is not available in that edition", status=402), ["402", "edition"]),
    (PermissionDenied("You have no permission to access this page", status=403), ["403"]),
    (ValidationError("alias: Alias has already used", status=422), ["422", "alias"]),
    (RateLimited("Too many requests", status=429), ["429"]),
    (ServerError("SQLSTATE <b>", status=500), ["500", "SQLSTATE <b>"]),
    (CloudflareBlocked("Error 1010: Access denied", status=403), ["Cloudflare", "1010"]),
    (NotAnApiResponse("web page", status=200), ["200", "web page", "check the tracker URL"]),
    (NotAnApiResponse("web page", status=502), ["502", "error page", "down or restarting"]),
    (BadResponse("expected a list of campaigns"), ["expected a list of campaigns"]),
    (ResponseTooLarge("too big"), ["too large"]),
    (RedirectRefused("moved", status=301, location_host="evil.example"), ["301", "evil.example"]),
    (ForbiddenAddress("127.0.0.1 is a loopback address"), ["127.0.0.1"]),
    (TrackerTimeout(timeout=5), ["5 s"]),  # the timeout that fired, not the configured one
    (TransportError("connection refused"), ["connection refused"]),
    (KeitaroError("something odd", status=418), ["418", "something odd"]),
]


@pytest.mark.parametrize(("error", "expected"), CASES, ids=lambda v: type(v).__name__)
def test_each_failure_names_its_cause_in_valid_html(error: KeitaroError, expected: list[str]):
    html = views.error_text("en", error, timeout=15)
    text, _ = parse_html(html)  # what Telegram would show; raises on invalid markup
    for fragment in expected:
        assert fragment in text
    assert "\n" not in text and visible_length(html) < 400


@pytest.mark.parametrize(("error", "expected"), CASES, ids=lambda v: type(v).__name__)
def test_russian_error_texts_are_russian(error: KeitaroError, expected: list[str]):
    english = views.error_text("en", error, timeout=15)
    russian = views.error_text("ru", error, timeout=15)
    parse_html(russian)
    assert russian != english


@pytest.mark.parametrize(
    ("error", "english", "russian"),
    [
        (TransportError(cause="refused"), "connection refused", "в соединении отказано"),
        (
            TransportError(cause="tls_verify", detail="self-signed certificate"),
            "TLS certificate verification failed: self-signed certificate",
            "сертификата: self-signed",
        ),
        (TransportError("request failed (OSError)"), "request failed", "request failed"),
    ],
)
def test_connection_causes_are_in_the_readers_language(
    error: TransportError, english: str, russian: str
):
    assert english in parse_html(views.error_text("en", error, timeout=15))[0]
    assert russian in parse_html(views.error_text("ru", error, timeout=15))[0]


def test_every_transport_cause_has_a_text_in_both_languages():
    from keitaro_api.errors import TRANSPORT_CAUSES

    for code, english in TRANSPORT_CAUSES.items():
        assert views.error_text("en", TransportError(cause=code), timeout=15).find(english) > 0
        assert "cause." not in views.error_text("ru", TransportError(cause=code), timeout=15)
