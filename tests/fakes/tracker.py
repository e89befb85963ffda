"""A fake Keitaro tracker on loopback HTTP, for tests and for trying the bot by hand.

It serves the two Admin API routes the project uses, the way live trackers do (see
``/work/shared/keitaro/API.md``)::

    GET /admin_api/v1/campaigns        bare JSON array of campaigns, each with "postbacks"
    GET /admin_api/v1/campaigns/{id}   one campaign; unknown id -> 404 text/plain
    anything else                      200 text/html admin page (as for a wrong base URL)

Auth is the ``Api-Key`` header (or ``Authorization: Bearer``); a wrong or missing key gets
401 ``{"error": "Unauthorized"}``.

Usage in a test::

    campaign = make_campaign(1, "Main", postbacks=[make_postback(42, 1)])
    async with FakeTracker(campaigns=[campaign]) as fake:
        tracker = Tracker.from_user_input(fake.url, fake.api_key)
        ...
        fake.fail_with(BAD_GATEWAY_HTML, times=1)   # or fake.fail_with(500, {"error": "boom"})
        assert [r.path for r in fake.requests] == ["/admin_api/v1/campaigns"]

Standalone, with demo campaigns (postback 42 in "Main campaign")::

    python -m tests.fakes.tracker --port 8090 --key KEY
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import hmac
import json
import ssl
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, NamedTuple, Self

from aiohttp import web

__all__ = [
    "ADMIN_PAGE_HTML",
    "ADMIN_PAGE_OK",
    "BAD_GATEWAY_HTML",
    "BAD_REQUEST",
    "CLOUDFLARE_1010",
    "CLOUDFLARE_1010_HTML",
    "DEFAULT_API_KEY",
    "EDITION_NOT_SUPPORTED",
    "ERROR_SHAPES",
    "FORBIDDEN",
    "GATEWAY_TIMEOUT_HTML",
    "NOT_FOUND_JSON",
    "NOT_FOUND_TEXT",
    "SERVER_ERROR",
    "SERVICE_UNAVAILABLE_HTML",
    "UNAUTHORIZED",
    "VALIDATION_406",
    "VALIDATION_422",
    "FakeTracker",
    "Fault",
    "RecordedRequest",
    "demo_campaigns",
    "make_campaign",
    "make_postback",
]

DEFAULT_API_KEY = "test-api-key-0123456789abcdef"
API_PREFIX = "/admin_api/v1"

ADMIN_PAGE_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Keitaro</title></head>
<body ng-app="keitaro"><div id="login">Keitaro admin panel: please log in</div></body></html>
"""

_PROXY_PAGE_HTML = """<html>
<head><title>{status} {reason}</title></head>
<body><center><h1>{status} {reason}</h1></center><hr><center>nginx</center></body>
</html>
"""

_CLOUDFLARE_PAGE_HTML = """<!DOCTYPE html>
<html><head><title>Access denied | tracker.example.com used Cloudflare to restrict access</title>
</head><body><div id="cf-wrapper"><h1><span>Error</span> <span>1010</span></h1>
<span>Ray ID: 8a1b2c3d4e5f6789</span><h2>Access denied</h2>
<p>The owner of this website has banned your access based on your browser's signature.</p>
<span>Performance &amp; security by Cloudflare</span></div></body></html>
"""


@dataclass(frozen=True)
class Fault:
    """A canned answer: status, body (dict/list -> JSON, str/bytes as is), type and headers."""

    status: int
    body: Any = ""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False
    """Send without Content-Length, so the client only learns the size while reading."""

    def encoded_body(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


# Every error shape in API.md, ready for fail_with().
BAD_REQUEST = Fault(400, {"error": "Invalid value for field 'state'"})
UNAUTHORIZED = Fault(401, {"error": "Unauthorized"})
EDITION_NOT_SUPPORTED = Fault(402, {"error": "Admin API is not available in that edition"})
FORBIDDEN = Fault(403, {"error": "You have no permission to access this page", "stacktrace": None})
CLOUDFLARE_1010 = Fault(
    403,
    {
        "title": "Error 1010: Access denied",
        "status": 403,
        "error_code": 1010,
        "detail": "The site owner has blocked access based on your browser's signature.",
        "ray_id": "8a1b2c3d4e5f6789",
        "cloudflare_error": True,
    },
    headers={"Server": "cloudflare"},
)
CLOUDFLARE_1010_HTML = Fault(
    403, _CLOUDFLARE_PAGE_HTML, content_type="text/html", headers={"Server": "cloudflare"}
)
NOT_FOUND_TEXT = Fault(404, "Traffic\\Model\\Campaign #42 not found", content_type="text/plain")
NOT_FOUND_JSON = Fault(404, {"error": "Not found"})
VALIDATION_406 = Fault(406, {"alias": ["Alias has already used"]})
VALIDATION_422 = Fault(422, {"alias": ["Alias has already used"], "name": ["Name is required"]})
SERVER_ERROR = Fault(500, {"error": "Internal server error: SQLSTATE[HY000] [2002]"})
BAD_GATEWAY_HTML = Fault(
    502, _PROXY_PAGE_HTML.format(status=502, reason="Bad Gateway"), content_type="text/html"
)
SERVICE_UNAVAILABLE_HTML = Fault(
    503,
    _PROXY_PAGE_HTML.format(status=503, reason="Service Temporarily Unavailable"),
    content_type="text/html",
)
GATEWAY_TIMEOUT_HTML = Fault(
    504, _PROXY_PAGE_HTML.format(status=504, reason="Gateway Time-out"), content_type="text/html"
)
ADMIN_PAGE_OK = Fault(200, ADMIN_PAGE_HTML, content_type="text/html")

ERROR_SHAPES: dict[str, Fault] = {
    "bad_request": BAD_REQUEST,
    "unauthorized": UNAUTHORIZED,
    "edition": EDITION_NOT_SUPPORTED,
    "forbidden": FORBIDDEN,
    "cloudflare_1010": CLOUDFLARE_1010,
    "cloudflare_1010_html": CLOUDFLARE_1010_HTML,
    "not_found_text": NOT_FOUND_TEXT,
    "not_found_json": NOT_FOUND_JSON,
    "validation_406": VALIDATION_406,
    "validation_422": VALIDATION_422,
    "server_error": SERVER_ERROR,
    "bad_gateway_html": BAD_GATEWAY_HTML,
    "service_unavailable_html": SERVICE_UNAVAILABLE_HTML,
    "gateway_timeout_html": GATEWAY_TIMEOUT_HTML,
    "admin_page_200": ADMIN_PAGE_OK,
}


class RecordedRequest(NamedTuple):
    """One request the fake received (headers as sent, including the key)."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class _ActiveFault:
    fault: Fault
    times: int | None
    path: str | None

    def matches(self, path: str) -> bool:
        return self.path is None or path in (self.path, API_PREFIX + self.path)


def make_postback(
    id: int,
    campaign_id: int,
    url: str | None = None,
    method: str = "GET",
    statuses: list[str] | None = None,
) -> dict[str, Any]:
    """An S2S postback object as the Admin API returns it."""
    return {
        "id": id,
        "campaign_id": campaign_id,
        "method": method,
        "url": url or f"https://aff.example/pb?click={{external_id}}&status={{status}}&pb={id}",
        "statuses": ["lead", "sale"] if statuses is None else statuses,
    }


def make_campaign(
    id: int,
    name: str,
    state: str = "active",
    postbacks: list[dict[str, Any]] | None = None,
    token: str = "secret-click-token",
    **extra: Any,
) -> dict[str, Any]:
    """A campaign object as the Admin API returns it (with the fields live trackers send)."""
    return {
        "id": id,
        "alias": f"campaign{id}",
        "type": "position",
        "name": name,
        "cookies_ttl": 24,
        "position": id,
        "state": state,
        "cost_type": "CPC",
        "cost_value": 0,
        "cost_currency": "USD",
        "group_id": None,
        "bind_visitors": None,
        "traffic_source_id": 1,
        "token": token,
        "cost_auto": False,
        "parameters": {"keyword": {"name": "keyword", "placeholder": "{keyword}"}},
        "postbacks": postbacks or [],
        "notes": None,
        "created_at": "2026-01-01 10:00:00",
        "updated_at": "2026-01-01 10:00:00",
        **extra,
    }


def demo_campaigns() -> list[dict[str, Any]]:
    """A few campaigns for manual testing: postback 42 lives in "Main campaign"."""
    macro_url = (
        "https://aff.example/pb?click={external_id}&status={status}&sum={revenue}&sub={sub_id_1}"
    )
    return [
        make_campaign(1, "Main campaign", postbacks=[make_postback(42, 1, url=macro_url)]),
        make_campaign(
            2,
            "Second campaign",
            postbacks=[
                make_postback(43, 2, method="POST", statuses=["sale"]),
                make_postback(44, 2, statuses=["rejected"]),
            ],
        ),
        make_campaign(3, "Paused campaign", state="disabled"),
    ]


class FakeTracker:
    """A loopback Keitaro tracker. Mutate ``campaigns`` or use the helpers between requests.

    Knobs: ``delay`` (seconds before answering API paths), ``block_default_user_agents``
    (Cloudflare 1010 for "Python"/"aiohttp" user agents), :meth:`fail_with`, :meth:`redirect_to`.
    Records: ``requests`` (every request, in order) and ``remote_ports`` (the client port of
    each, to see connection reuse).
    """

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        campaigns: list[dict[str, Any]] | None = None,
        *,
        block_default_user_agents: bool = False,
        delay: float = 0.0,
    ) -> None:
        self.api_key = api_key
        self.campaigns: dict[int, dict[str, Any]] = {c["id"]: c for c in campaigns or []}
        self.block_default_user_agents = block_default_user_agents
        self.delay = delay
        self.requests: list[RecordedRequest] = []
        self.remote_ports: list[int] = []
        self.url = ""
        self._faults: list[_ActiveFault] = []
        self._redirect: str | None = None
        self._runner: web.AppRunner | None = None

    # Lifecycle ---------------------------------------------------------------------------------

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None
    ) -> str:
        """Start serving; returns the root URL ``http://127.0.0.1:PORT`` (also ``self.url``).

        With ``ssl_context`` (see :func:`tests.fakes.tls.self_signed_server_context`) it serves
        HTTPS, and the URL is ``https://127.0.0.1:PORT``.
        """
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # Cancel handlers whose client went away, so a slow fake closes promptly.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=ssl_context)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.url = f"{'https' if ssl_context else 'http'}://{host}:{bound_port}"
        return self.url

    async def close(self) -> None:
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

    # Data helpers ------------------------------------------------------------------------------

    def add_campaign(self, campaign: dict[str, Any]) -> None:
        self.campaigns[campaign["id"]] = campaign

    def remove_campaign(self, campaign_id: int) -> None:
        del self.campaigns[campaign_id]

    def move_postback(self, postback_id: int, to_campaign_id: int) -> None:
        """Move a postback to another campaign (as if edited in the admin panel)."""
        for campaign in self.campaigns.values():
            for postback in campaign["postbacks"]:
                if postback["id"] == postback_id:
                    campaign["postbacks"].remove(postback)
                    postback["campaign_id"] = to_campaign_id
                    self.campaigns[to_campaign_id]["postbacks"].append(postback)
                    return
        raise KeyError(f"no postback #{postback_id}")

    # Fault injection ---------------------------------------------------------------------------

    def fail_with(
        self,
        status: int | Fault,
        body: Any = "",
        content_type: str = "application/json",
        times: int | None = None,
        path: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        chunked: bool = False,
    ) -> None:
        """Answer with a canned response instead of the API, ``times`` times (None: always).

        ``status`` is a status code (with ``body``...) or a ready :class:`Fault` such as
        ``BAD_GATEWAY_HTML``. ``path`` limits it to one path, API-relative (``/campaigns/1``)
        or absolute. Faults are tried in the order added.
        """
        fault = (
            status
            if isinstance(status, Fault)
            else Fault(status, body, content_type, headers or {}, chunked)
        )
        self._faults.append(_ActiveFault(fault, times, path))

    def redirect_to(self, url: str | None) -> None:
        """Answer every request with 302 to ``url`` (None: stop redirecting)."""
        self._redirect = url

    def reset_faults(self) -> None:
        self._faults.clear()
        self._redirect = None

    def api_requests(self, path: str | None = None) -> list[RecordedRequest]:
        """Recorded requests under the API, optionally only those to one API-relative path."""
        return [
            r
            for r in self.requests
            if r.path.startswith(API_PREFIX) and (path is None or r.path == API_PREFIX + path)
        ]

    # Serving -----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(RecordedRequest(request.method, request.path, dict(request.headers)))
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.remote_ports.append(peer[1] if peer else 0)

        if self.delay:
            await asyncio.sleep(self.delay)
        user_agent = request.headers.get("User-Agent", "")
        if self.block_default_user_agents and (
            "python" in user_agent.lower() or "aiohttp" in user_agent.lower()
        ):
            return await self._serve(request, CLOUDFLARE_1010)
        if self._redirect is not None:
            raise web.HTTPFound(self._redirect)
        for active in self._faults:
            if active.matches(request.path) and active.times != 0:
                if active.times is not None:
                    active.times -= 1
                return await self._serve(request, active.fault)
        return await self._serve_api(request)

    async def _serve_api(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/")
        is_list = path == API_PREFIX + "/campaigns"
        is_one = path.startswith(API_PREFIX + "/campaigns/")
        if request.method != "GET" or not (is_list or is_one):
            return await self._serve(request, ADMIN_PAGE_OK)
        if not self._authorized(request):
            return await self._serve(request, UNAUTHORIZED)
        if is_list:
            return web.json_response(copy.deepcopy(list(self.campaigns.values())))
        campaign_id = path.rsplit("/", 1)[1]
        campaign = self.campaigns.get(int(campaign_id)) if campaign_id.isdigit() else None
        if campaign is None:
            return web.Response(
                status=404,
                text=f"Traffic\\Model\\Campaign #{campaign_id} not found",
                content_type="text/plain",
            )
        return web.json_response(copy.deepcopy(campaign))

    def _authorized(self, request: web.Request) -> bool:
        sent = request.headers.get("Api-Key")
        if sent is None:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            sent = token if scheme.lower() == "bearer" else None
        return sent is not None and hmac.compare_digest(sent.encode(), self.api_key.encode())

    async def _serve(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        body = fault.encoded_body()
        if not fault.chunked:
            return web.Response(
                status=fault.status,
                body=body,
                headers={"Content-Type": fault.content_type, **fault.headers},
            )
        response = web.StreamResponse(
            status=fault.status, headers={"Content-Type": fault.content_type, **fault.headers}
        )
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), 64 * 1024):
            await response.write(body[start : start + 64 * 1024])
        await response.write_eof()
        return response


async def _serve_forever(host: str, port: int, api_key: str) -> None:
    fake = FakeTracker(api_key, demo_campaigns())
    url = await fake.start(host, port)
    print(f"Fake Keitaro tracker at {url}  (API: {url}{API_PREFIX}, key: {api_key})")
    print("Postbacks: 42 (Main campaign), 43 and 44 (Second campaign). Ctrl+C to stop.")
    try:
        await asyncio.Event().wait()
    finally:
        await fake.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--key", default=DEFAULT_API_KEY, help="the Admin API key to accept")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(args.host, args.port, args.key))


if __name__ == "__main__":
    main()
