"""The Keitaro Admin API client: one ``_request()`` choke point, resource methods on top.

One :class:`KeitaroClient` serves every tracker of every chat over one shared aiohttp session.
It never follows redirects (the ``Api-Key`` header would go to another host), refuses private
addresses unless told otherwise, caps response bodies, and maps every answer through
:func:`keitaro_api.responses.parse_response`.
"""

from __future__ import annotations

import asyncio
import copy
import errno
import hashlib
import ipaddress
import logging
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from pydantic import SecretStr, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from yarl import URL

from keitaro_api.errors import (
    BadResponse,
    CertificateError,
    ForbiddenAddress,
    KeitaroError,
    NotFound,
    PostbackNotFound,
    ResponseTooLarge,
    TrackerTimeout,
    TransportError,
)
from keitaro_api.models import Campaign, PostbackLookup, RequestRecord
from keitaro_api.redact import mask_key
from keitaro_api.responses import parse_response
from keitaro_api.urls import api_base, display_url, normalize_tracker_url

__all__ = ["DEFAULT_USER_AGENT", "KeitaroClient", "OnRequest", "Tracker"]

logger = logging.getLogger(__name__)

# Cloudflare's bot rules (error 1010) block the default "Python/aiohttp" user agents.
DEFAULT_USER_AGENT = "keitaro-telegram-bot/0.1 (Keitaro postback lookup bot)"
MAX_INDEXED_TRACKERS = 1000
_CHUNK_SIZE = 64 * 1024
_STALE_CONNECTION_ERRNOS = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED})

OnRequest = Callable[[RequestRecord, int | None, float], None]
"""Called after every request with its masked record, HTTP status (None if none) and seconds."""

_T = TypeVar("_T")
_CAMPAIGN = TypeAdapter(Campaign)
_CAMPAIGNS = TypeAdapter(list[Campaign])


# One hanging tracker may hold at most this many connections, so lookups on other trackers
# never wait for a free connection behind it; its own extra lookups wait (within the timeout).
MAX_CONNECTIONS_PER_HOST = 16
MAX_CONNECTIONS = 1024


@dataclass(frozen=True, repr=False)
class Tracker:
    """A tracker root URL and its Admin API key. The key is never shown, only ``abcd…wxyz``.

    ``verify_tls=False`` trusts whatever certificate the tracker shows (a self-signed one), but
    only on a client created with ``allow_unverified_tls=True``; any other client verifies.
    """

    root: str
    api_key: SecretStr
    verify_tls: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.api_key, SecretStr):
            object.__setattr__(self, "api_key", SecretStr(str(self.api_key)))
        object.__setattr__(self, "root", self.root.rstrip("/"))

    @classmethod
    def from_user_input(cls, url: str, api_key: str, *, verify_tls: bool = True) -> Tracker:
        """Normalise what a user typed; raises InvalidTrackerURL or ValueError for the key."""
        root = normalize_tracker_url(url)
        key = api_key.strip()
        if not key:
            raise ValueError("empty API key")
        if not key.isascii() or not key.isprintable() or " " in key:
            raise ValueError("the API key may only contain letters, digits and punctuation")
        return cls(root=root, api_key=SecretStr(key), verify_tls=verify_tls)

    @property
    def base_url(self) -> str:
        return api_base(self.root)

    @property
    def display(self) -> str:
        return display_url(self.root)

    def __repr__(self) -> str:
        masked = mask_key(self.api_key.get_secret_value())
        unverified = "" if self.verify_tls else ", verify_tls=False"
        return f"Tracker(root={self.root!r}, api_key={masked!r}{unverified})"

    __str__ = __repr__


@dataclass
class _Refresh:
    """The answer of one campaign-list request, kept only while lookups are waiting for it."""

    campaigns_by_postback: dict[int, Campaign]
    request: RequestRecord


@dataclass
class _PostbackIndex:
    """Which campaign holds which postback, for one tracker (URL and key)."""

    campaign_by_postback: dict[int, int] = field(default_factory=dict)
    refreshed_at: float | None = None
    last_list_request: RequestRecord | None = None
    refresh_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Single flight: lookups that queued behind a refresh reuse its outcome instead of repeating it.
    last_outcome: _Refresh | KeitaroError | None = None
    last_outcome_at: float = float("-inf")
    waiting: int = 0
    # Ids a refresh just confirmed missing, and when: asking again at once does not refresh.
    confirmed_missing: dict[int, float] = field(default_factory=dict)

    def recently_missing(self, postback_id: int, interval: float) -> bool:
        at = self.confirmed_missing.get(postback_id)
        return at is not None and time.monotonic() - at < interval

    def remember_missing(self, postback_id: int, interval: float) -> None:
        now = time.monotonic()
        if len(self.confirmed_missing) >= 1000:
            self.confirmed_missing = {
                i: at for i, at in self.confirmed_missing.items() if now - at < interval
            }
        self.confirmed_missing[postback_id] = now

    def rebuild(self, campaigns: list[Campaign], request: RequestRecord) -> None:
        self.campaign_by_postback = {
            postback.id: campaign.id for campaign in campaigns for postback in campaign.postbacks
        }
        self.refreshed_at = time.monotonic()
        self.last_list_request = request

    def update_campaign(self, campaign: Campaign) -> None:
        self.forget_campaign(campaign.id)
        for postback in campaign.postbacks:
            self.campaign_by_postback[postback.id] = campaign.id

    def forget_campaign(self, campaign_id: int) -> None:
        self.campaign_by_postback = {
            postback_id: held_by
            for postback_id, held_by in self.campaign_by_postback.items()
            if held_by != campaign_id
        }

    def is_fresh(self, ttl: float) -> bool:
        return self.refreshed_at is not None and time.monotonic() - self.refreshed_at < ttl


class _PublicAddressResolver(AbstractResolver):
    """Resolves names at request time and drops addresses the client must not connect to.

    aiohttp does not call the resolver for IP literals; :meth:`KeitaroClient._check_host`
    refuses those before sending.
    """

    def __init__(self) -> None:
        self._resolver = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        allowed = [result for result in results if _forbidden_kind(result["host"]) is None]
        if results and not allowed:
            address = results[0]["host"]
            raise ForbiddenAddress(
                f"{host} resolves to {address}, a {_forbidden_kind(address)} address"
            )
        return allowed

    async def close(self) -> None:
        await self._resolver.close()


class KeitaroClient:
    """Talks to any number of Keitaro trackers; see the module docstring.

    Use as ``async with KeitaroClient() as client`` or call :meth:`close` at shutdown.
    """

    def __init__(
        self,
        *,
        timeout: float = 15.0,
        connect_timeout: float = 5.0,
        allow_private_hosts: bool = False,
        allow_unverified_tls: bool = False,
        user_agent: str = DEFAULT_USER_AGENT,
        max_body_bytes: int = 16 * 1024 * 1024,
        miss_refresh_interval: float = 5.0,
        index_ttl: float = 600.0,
        session: aiohttp.ClientSession | None = None,
        on_request: OnRequest | None = None,
    ) -> None:
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._client_timeout = aiohttp.ClientTimeout(
            total=timeout, connect=connect_timeout, sock_read=timeout
        )
        self._allow_private_hosts = allow_private_hosts
        self._allow_unverified_tls = allow_unverified_tls
        self._user_agent = user_agent
        self._max_body_bytes = max_body_bytes
        self._miss_refresh_interval = miss_refresh_interval
        self._index_ttl = index_ttl
        self._session = session
        self._owns_session = session is None
        self._on_request = on_request
        self._indexes: OrderedDict[tuple[str, str, bool], _PostbackIndex] = OrderedDict()

    def __repr__(self) -> str:
        return (
            f"KeitaroClient(timeout={self._timeout!r}, "
            f"allow_private_hosts={self._allow_private_hosts!r}, "
            f"allow_unverified_tls={self._allow_unverified_tls!r}, "
            f"indexed_trackers={len(self._indexes)})"
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if this client created it; a session passed in stays open."""
        if self._owns_session and self._session is not None:
            session, self._session = self._session, None
            await session.close()

    # Resource methods -------------------------------------------------------------------------

    async def check_key(self, tracker: Tracker) -> int:
        """Verify the URL and key with one request; returns the number of campaigns.

        The same request primes the postback index, so the first lookup is cheap.
        """
        campaigns, _ = await self.list_campaigns(tracker)
        return len(campaigns)

    async def list_campaigns(self, tracker: Tracker) -> tuple[list[Campaign], RequestRecord]:
        """``GET /campaigns``: every campaign with its postbacks (a bare JSON array)."""
        data, record = await self._request(tracker, "GET", "/campaigns")
        if not isinstance(data, list):
            raise BadResponse(
                f"expected a list of campaigns, got {_json_kind(data)}", status=200, request=record
            )
        campaigns = _validate(_CAMPAIGNS, data, "campaign list", record)
        self._index_for(tracker).rebuild(campaigns, record)
        return campaigns, record

    async def get_campaign(
        self, tracker: Tracker, campaign_id: int
    ) -> tuple[Campaign, RequestRecord]:
        """``GET /campaigns/{id}``: one campaign with its postbacks."""
        data, record = await self._request(tracker, "GET", f"/campaigns/{int(campaign_id)}")
        if not isinstance(data, dict):
            raise BadResponse(
                f"expected a campaign, got {_json_kind(data)}", status=200, request=record
            )
        campaign = _validate(_CAMPAIGN, data, "campaign", record)
        self._index_for(tracker).update_campaign(campaign)
        return campaign, record

    async def lookup_postback(self, tracker: Tracker, postback_id: int) -> PostbackLookup:
        """Find the postback with that id and its campaign; raises PostbackNotFound.

        There is no /postbacks route: postbacks live in campaigns. A per-tracker index
        (postback id -> campaign id) turns a lookup into one small ``GET /campaigns/{id}``;
        a miss refreshes the index with one ``GET /campaigns`` shared by concurrent lookups.
        """
        index = self._index_for(tracker)
        index_was_wrong = False
        campaign_id = index.campaign_by_postback.get(postback_id)
        if campaign_id is not None and index.is_fresh(self._index_ttl):
            try:
                campaign, record = await self.get_campaign(tracker, campaign_id)
            except NotFound:
                index.forget_campaign(campaign_id)
            else:
                postback = campaign.find_postback(postback_id)
                if postback is not None:
                    return PostbackLookup(
                        postback=postback, campaign=campaign, request=record, from_index=True
                    )
            index_was_wrong = True

        refresh = await self._refresh_index(
            tracker, index, force=index_was_wrong, postback_id=postback_id
        )
        holder = refresh.campaigns_by_postback.get(postback_id) if refresh else None
        postback = holder.find_postback(postback_id) if holder else None
        if refresh is None or holder is None or postback is None:
            if refresh is not None:
                index.remember_missing(postback_id, self._miss_refresh_interval)
            raise PostbackNotFound(
                postback_id,
                tracker.display,
                request=refresh.request if refresh else index.last_list_request,
            )
        return PostbackLookup(
            postback=postback, campaign=holder, request=refresh.request, from_index=False
        )

    # The postback index -----------------------------------------------------------------------

    def _index_for(self, tracker: Tracker) -> _PostbackIndex:
        # Keyed by a hash of the key: a different key may see different campaigns. And by
        # verify_tls: what an unverified connection listed must not answer a verified lookup.
        key_hash = hashlib.sha256(tracker.api_key.get_secret_value().encode()).hexdigest()
        cache_key = (tracker.base_url, key_hash, tracker.verify_tls)
        index = self._indexes.get(cache_key)
        if index is None:
            index = self._indexes[cache_key] = _PostbackIndex()
            while len(self._indexes) > MAX_INDEXED_TRACKERS:
                self._indexes.popitem(last=False)
        else:
            self._indexes.move_to_end(cache_key)
        return index

    async def _refresh_index(
        self, tracker: Tracker, index: _PostbackIndex, *, force: bool, postback_id: int
    ) -> _Refresh | None:
        """Reload the campaign list, once for any number of concurrent callers.

        Returns None without a request when a refresh moments ago already found no such
        postback: asking again for one that does not exist must not hammer the tracker. Any
        other miss asks the tracker, so "not found" always means the tracker said so recently.
        """
        asked_at = time.monotonic()
        index.waiting += 1
        try:
            async with index.refresh_lock:
                if index.last_outcome_at >= asked_at and index.last_outcome is not None:
                    if isinstance(index.last_outcome, KeitaroError):
                        raise copy.copy(index.last_outcome)
                    return index.last_outcome
                recently = index.recently_missing(postback_id, self._miss_refresh_interval)
                if recently and not force and index.is_fresh(self._index_ttl):
                    return None
                try:
                    campaigns, record = await self.list_campaigns(tracker)
                except KeitaroError as error:
                    index.last_outcome, index.last_outcome_at = error, time.monotonic()
                    raise
                refresh = _Refresh(
                    {p.id: campaign for campaign in campaigns for p in campaign.postbacks}, record
                )
                index.last_outcome, index.last_outcome_at = refresh, time.monotonic()
                return refresh
        finally:
            index.waiting -= 1
            if index.waiting == 0:
                index.last_outcome = None  # the full list is not kept beyond the burst

    # The choke point --------------------------------------------------------------------------

    async def _request(
        self,
        tracker: Tracker,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None = None,
    ) -> tuple[Any, RequestRecord]:
        """Send one Admin API request and return its decoded JSON and its masked record."""
        url = URL(tracker.base_url + path)
        if params:
            url = url.update_query(params)
        api_key = tracker.api_key.get_secret_value()
        headers = {
            "Api-Key": api_key,
            "Accept": "application/json",
            "User-Agent": self._user_agent,
        }
        record = RequestRecord(method=method, url=str(url), headers=headers)
        status: int | None = None
        started = time.monotonic()
        # True is aiohttp's default, verified TLS. False trusts any certificate; aiohttp pools
        # such connections apart, so one is never reused for a verified request.
        verify = tracker.verify_tls or not self._allow_unverified_tls
        try:
            await self._check_host(url)
            status, response_headers, body = await self._send(method, url, headers, verify)
            return parse_response(status, response_headers, body), record
        except KeitaroError as error:
            error.request = record
            if len(api_key) >= 8 and api_key in error.message:  # a tracker echoing the key
                error._replace_message(error.message.replace(api_key, mask_key(api_key)))
            raise
        finally:
            self._report(record, status, time.monotonic() - started)

    async def _send(
        self, method: str, url: URL, headers: dict[str, str], verify_tls: bool
    ) -> tuple[int, Mapping[str, str], bytes]:
        # No retry loop here: aiohttp already retries an idempotent request exactly once when a
        # pooled keep-alive connection turns out closed before any answer (RFC 9112, 9.3.1).
        # A second loop would double that; timeouts are never retried.
        try:
            async with self._get_session().request(
                method,
                url,
                headers=headers,
                allow_redirects=False,
                timeout=self._client_timeout,
                ssl=verify_tls,
            ) as response:
                body = await self._read_body(response)
                return response.status, response.headers, body
        except TimeoutError as exc:
            connect = isinstance(exc, aiohttp.ConnectionTimeoutError)
            raise TrackerTimeout(
                timeout=self._connect_timeout if connect else self._timeout
            ) from None
        except aiohttp.ClientConnectorCertificateError as exc:
            reason = getattr(exc.certificate_error, "verify_message", None) or ""
            raise CertificateError(cause="tls_verify", detail=reason) from None
        except aiohttp.ClientError as exc:
            cause = _transport_cause(exc)
            raise TransportError(
                f"request failed ({type(exc).__name__})" if cause is None else "", cause=cause
            ) from None

    async def _read_body(self, response: aiohttp.ClientResponse) -> bytes:
        limit = self._max_body_bytes
        too_large = ResponseTooLarge(
            f"the answer is larger than {_format_size(limit)}", status=response.status
        )
        if response.content_length is not None and response.content_length > limit:
            raise too_large
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK_SIZE):
            body += chunk
            if len(body) > limit:
                raise too_large
        return bytes(body)

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            # Created lazily so it binds to the running loop. The resolver checks every
            # address at request time, which also covers DNS answers that change later.
            resolver = None if self._allow_private_hosts else _PublicAddressResolver()
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    resolver=resolver,
                    limit=MAX_CONNECTIONS,
                    limit_per_host=MAX_CONNECTIONS_PER_HOST,
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def _check_host(self, url: URL) -> None:
        """Refuse private addresses before anything is sent (unless they are allowed)."""
        if self._allow_private_hosts:
            return
        host = (url.raw_host or "").rstrip(".").lower()  # raw: .host decodes punycode, and may fail
        if host == "localhost" or host.endswith(".localhost"):
            raise ForbiddenAddress(f"{host} is a loopback address")
        kind = _forbidden_kind(host)
        if kind is not None:
            raise ForbiddenAddress(f"{host} is {_article(kind)} {kind} address")
        if not self._owns_session and not _is_ip(host):
            # A session passed in has no guarding resolver: check what the name resolves to
            # now (best effort: the connection resolves again).
            await _check_resolved(host, url.port or 443)

    def _report(self, record: RequestRecord, status: int | None, elapsed: float) -> None:
        if self._on_request is None:
            return
        try:
            self._on_request(record, status, elapsed)
        except Exception:
            logger.exception("on_request callback failed")


def _validate(adapter: TypeAdapter[_T], data: Any, what: str, record: RequestRecord) -> _T:
    try:
        return adapter.validate_python(data)
    except PydanticValidationError as exc:
        # Never the input: it may hold a campaign token.
        problem = exc.errors(include_url=False, include_input=False, include_context=False)[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise BadResponse(
            f"unexpected {what} from the tracker: {where}: {problem['msg']}",
            status=200,
            request=record,
        ) from None


def _json_kind(data: Any) -> str:
    if isinstance(data, dict):
        return "an object"
    if isinstance(data, list):
        return "a list"
    return "null" if data is None else f"a {type(data).__name__}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _forbidden_kind(host: str) -> str | None:
    """Why an IP address must not be contacted ("loopback", "private"...), None if it may be."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind, flag in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return kind
    return None if address.is_global else "non-public"


async def _check_resolved(host: str, port: int) -> None:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return  # the request itself reports the DNS failure
    for *_, sockaddr in infos:
        kind = _forbidden_kind(str(sockaddr[0]))
        if kind is not None:
            raise ForbiddenAddress(
                f"{host} resolves to {sockaddr[0]}, {_article(kind)} {kind} address"
            )


def _is_stale(exc: aiohttp.ClientError) -> bool:
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientConnectionResetError):
        return True
    return (
        isinstance(exc, aiohttp.ClientOSError)
        and not isinstance(exc, aiohttp.ClientConnectorError)
        and exc.errno in _STALE_CONNECTION_ERRNOS
    )


def _transport_cause(exc: aiohttp.ClientError) -> str | None:
    """A short cause for the user (a TRANSPORT_CAUSES code); the exception text may be long or
    carry internals."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "tls_verify"
    if isinstance(exc, aiohttp.ClientSSLError):
        return "tls_handshake"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "host_not_found"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if exc.os_error.errno == errno.ECONNREFUSED:
            return "refused"
        if exc.os_error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "unreachable"
        return "could_not_connect"
    if _is_stale(exc):
        return "reset"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "broke"
    if isinstance(exc, aiohttp.ClientResponseError):
        return "malformed"
    if isinstance(exc, aiohttp.InvalidURL):
        return "invalid_address"
    return None


def _format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MiB"
    if size >= 1024:
        return f"{size / 1024:g} KiB"
    return f"{size} bytes"


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
