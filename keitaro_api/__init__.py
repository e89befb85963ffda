"""Keitaro Admin API client: look up S2S postbacks of a Keitaro tracker.

Imports nothing from the bot; usable on its own::

    async with KeitaroClient() as client:
        tracker = Tracker.from_user_input("tracker.example.com", "api-key")
        found = await client.lookup_postback(tracker, 42)
"""

from keitaro_api.client import DEFAULT_USER_AGENT, KeitaroClient, OnRequest, Tracker
from keitaro_api.errors import (
    ApiError,
    AuthError,
    BadRequest,
    BadResponse,
    CertificateError,
    CloudflareBlocked,
    EditionError,
    ForbiddenAddress,
    KeitaroError,
    NotAnApiResponse,
    NotFound,
    PermissionDenied,
    PostbackNotFound,
    RateLimited,
    RedirectRefused,
    ResponseTooLarge,
    ServerError,
    TrackerTimeout,
    TransportError,
    ValidationError,
)
from keitaro_api.models import Campaign, Postback, PostbackLookup, RequestRecord
from keitaro_api.redact import mask_key
from keitaro_api.responses import parse_response
from keitaro_api.urls import InvalidTrackerURL, api_base, display_url, normalize_tracker_url

__all__ = [
    "DEFAULT_USER_AGENT",
    "ApiError",
    "AuthError",
    "BadRequest",
    "BadResponse",
    "Campaign",
    "CertificateError",
    "CloudflareBlocked",
    "EditionError",
    "ForbiddenAddress",
    "InvalidTrackerURL",
    "KeitaroClient",
    "KeitaroError",
    "NotAnApiResponse",
    "NotFound",
    "OnRequest",
    "PermissionDenied",
    "Postback",
    "PostbackLookup",
    "PostbackNotFound",
    "RateLimited",
    "RedirectRefused",
    "RequestRecord",
    "ResponseTooLarge",
    "ServerError",
    "Tracker",
    "TrackerTimeout",
    "TransportError",
    "ValidationError",
    "api_base",
    "display_url",
    "mask_key",
    "normalize_tracker_url",
    "parse_response",
]
