"""A tracker that breaks in every way: each fault is one KeitaroError naming its cause, in one line.

Every fault is served by a real loopback server written here (raw asyncio, so a fault can be
exactly as broken as a real one: a reset mid-body, a server that never answers, 20 MB). The
client is driven the way the bot drives it, through ``lookup_postback``, and nothing but a
:class:`KeitaroError` may come out. ``FAULT_KINDS`` counts the kinds covered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from keitaro_api import (
    BadResponse,
    CloudflareBlocked,
    KeitaroClient,
    KeitaroError,
    NotAnApiResponse,
    PostbackNotFound,
    RedirectRefused,
    ResponseTooLarge,
    Tracker,
    TrackerTimeout,
    TransportError,
)
from tests.fakes.tracker import FakeTracker, make_campaign, make_postback

API_KEY = "faults-key-0123456789abcdef"
TIMEOUT = 1.0
MB = 1024 * 1024

Handler = Callable[["RawServer", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class RawServer:
    """A loopback TCP server that hands each connection to ``handler`` after the request head."""

    handler: Handler
    connections: int = 0
    bytes_sent: int = 0
    url: str = ""
    _server: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            await self.handler(self, reader, writer)

    async def send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        await writer.drain()
        self.bytes_sent += len(data)


def head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def answer(
    status: int, body: bytes | str | object, content_type: str = "application/json", **headers: str
) -> Handler:
    """A complete HTTP answer, then the connection is closed."""
    if isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = json.dumps(body).encode()
    extra = {k.replace("_", "-"): v for k, v in headers.items()}

    async def handle(server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        fields = {"Content-Type": content_type, "Content-Length": str(len(body)), **extra}
        await server.send(writer, head(status, {**fields, "Connection": "close"}) + body)
        writer.close()

    return handle


async def reset_mid_body(server: RawServer, reader, writer) -> None:  # type: ignore[no-untyped-def]
    await server.send(
        writer, head(200, {"Content-Type": "application/json", "Content-Length": "1000"})
    )
    await server.send(writer, b'[{"id": 1, "name": "Main", "postbacks": [')
    await asyncio.sleep(0.05)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN
    writer.transport.abort()


async def never_answers(server: RawServer, reader, writer) -> None:  # type: ignore[no-untyped-def]
    await reader.read()  # until the client gives up and closes


async def closes_without_answer(server: RawServer, reader, writer) -> None:  # type: ignore[no-untyped-def]
    writer.close()


async def not_http(server: RawServer, reader, writer) -> None:  # type: ignore[no-untyped-def]
    await server.send(writer, b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    writer.close()


def streams(total: int, *, declare_length: bool) -> Handler:
    """``total`` bytes of a JSON-looking body, chunked or with Content-Length, 64 KiB at a time."""

    async def handle(server: RawServer, reader, writer) -> None:  # type: ignore[no-untyped-def]
        fields = {"Content-Type": "application/json"}
        if declare_length:
            fields["Content-Length"] = str(total)
        else:
            fields["Transfer-Encoding"] = "chunked"
        await server.send(writer, head(200, fields))
        piece = b"[" + b"1," * (32 * 1024 - 1)
        for _ in range(total // len(piece)):
            data = piece if declare_length else b"%x\r\n%s\r\n" % (len(piece), piece)
            await server.send(writer, data)
        writer.close()

    return handle


CLOUDFLARE_PAGE = (
    "<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head>"
    "<body><h1><span>Error</span> <span>1020</span></h1><p>Access denied</p></body></html>"
)
ONE_CAMPAIGN = [{"id": 1, "name": "Main", "postbacks": [{"id": 42, "url": "https://a/pb"}]}]

# name -> (the server's behaviour, the error expected, a fragment of its one-line message)
FAULTS: dict[str, tuple[Handler, type[KeitaroError], str]] = {
    "reset mid-body": (reset_mid_body, TransportError, "connection"),
    "closes without answering": (closes_without_answer, TransportError, "connection reset"),
    "not HTTP at all": (not_http, TransportError, "malformed HTTP answer"),
    "invalid JSON": (answer(200, '[{"id": 1, "name": "Main",'), BadResponse, "not valid JSON"),
    "not UTF-8": (answer(200, b"[\xff\xfe]"), BadResponse, "not valid JSON"),
    "empty 200": (answer(200, b""), BadResponse, "empty answer"),
    "JSON nested 100000 deep": (
        answer(200, b"[" * 100_000 + b"]" * 100_000),
        BadResponse,
        "not valid JSON",
    ),
    "an object, not the campaign list": (
        answer(200, {"campaigns": ONE_CAMPAIGN}),
        BadResponse,
        "expected a list of campaigns, got an object",
    ),
    "null, not the campaign list": (answer(200, "null"), BadResponse, "got null"),
    "a list of strings": (answer(200, ["Main", "Second"]), BadResponse, "unexpected campaign list"),
    "a campaign without an id": (
        answer(200, [{"name": "Main", "postbacks": []}]),
        BadResponse,
        "0.id: Field required",
    ),
    "postbacks as a string": (
        answer(200, [{"id": 1, "postbacks": "42"}]),
        BadResponse,
        "0.postbacks",
    ),
    "postback id not a number": (
        answer(200, [{"id": 1, "postbacks": [{"id": "forty-two", "url": "u"}]}]),
        BadResponse,
        "0.postbacks.0.id",
    ),
    "null postbacks list": (
        answer(200, [{"id": 1, "name": "Main", "postbacks": None}]),
        PostbackNotFound,
        "postback #42 not found",
    ),
    "HTML admin page with 200": (
        answer(200, "<!DOCTYPE html><html>Keitaro login</html>", "text/html"),
        NotAnApiResponse,
        "HTTP 200: the tracker answered with a web page, not the API: check the URL",
    ),
    "HTML without a content type": (
        answer(200, "<html>login</html>", "application/octet-stream"),
        NotAnApiResponse,
        "web page",
    ),
    "Cloudflare 403 JSON": (
        answer(403, {"title": "Error 1010: Access denied", "cloudflare_error": True}),
        CloudflareBlocked,
        "Error 1010: Access denied",
    ),
    "Cloudflare 403 page": (
        answer(403, CLOUDFLARE_PAGE, "text/html", Server="cloudflare"),
        CloudflareBlocked,
        "Error 1020: Access denied by Cloudflare",
    ),
    "502 page from nginx": (
        answer(502, "<html><h1>502 Bad Gateway</h1></html>", "text/html"),
        NotAnApiResponse,
        "HTTP 502",
    ),
    "redirect with an unreadable Location": (
        answer(302, b"", Location="http://[::1"),
        RedirectRefused,
        "HTTP 302: the tracker redirects; use the final tracker address",
    ),
    "20 MB with Content-Length": (
        streams(20 * MB, declare_length=True),
        ResponseTooLarge,
        "larger than 16 MiB",
    ),
}


@pytest.fixture
async def client() -> AsyncIterator[KeitaroClient]:
    async with KeitaroClient(allow_private_hosts=True, timeout=TIMEOUT) as keitaro:
        yield keitaro


def assert_one_line(error: KeitaroError, fragment: str) -> None:
    assert fragment in error.message
    assert "\n" not in error.message and len(error.message) <= 300
    assert API_KEY not in repr(error) and error.request is not None


@pytest.mark.parametrize("name", list(FAULTS))
async def test_each_fault_is_one_keitaro_error_naming_its_cause(
    client: KeitaroClient, name: str
) -> None:
    handler, expected, fragment = FAULTS[name]
    async with RawServer(handler) as server:
        tracker = Tracker.from_user_input(server.url, API_KEY)
        started = time.monotonic()
        with pytest.raises(KeitaroError) as caught:
            await client.lookup_postback(tracker, 42)
    assert type(caught.value) is expected, repr(caught.value)
    assert_one_line(caught.value, fragment)
    assert time.monotonic() - started < TIMEOUT + 1
    print(f"{name}: {type(caught.value).__name__}: {caught.value}")


async def test_refused_connection(client: KeitaroClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: the kernel refuses
        tracker = Tracker.from_user_input(f"http://127.0.0.1:{port}", API_KEY)
        with pytest.raises(TransportError) as caught:
            await client.lookup_postback(tracker, 42)
    assert_one_line(caught.value, "connection refused")


async def test_a_tracker_that_never_answers_times_out_on_time(client: KeitaroClient) -> None:
    async with RawServer(never_answers) as server:
        tracker = Tracker.from_user_input(server.url, API_KEY)
        started = time.monotonic()
        with pytest.raises(TrackerTimeout) as caught:
            await client.lookup_postback(tracker, 42)
        elapsed = time.monotonic() - started
    assert TIMEOUT <= elapsed < TIMEOUT + 1
    assert_one_line(caught.value, f"no answer within {TIMEOUT:g} s")
    assert server.connections == 1  # a timeout is not retried


async def test_a_20_mb_stream_is_cut_at_the_cap_without_buffering_it(
    client: KeitaroClient,
) -> None:
    cap = 1 * MB
    async with (
        KeitaroClient(allow_private_hosts=True, timeout=5, max_body_bytes=cap) as capped,
        RawServer(streams(20 * MB, declare_length=False)) as server,
    ):
        tracker = Tracker.from_user_input(server.url, API_KEY)
        tracemalloc.start()
        started = time.monotonic()
        try:
            with pytest.raises(ResponseTooLarge) as caught:
                await capped.lookup_postback(tracker, 42)
            elapsed = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        await asyncio.sleep(0.1)  # let the server notice the closed connection
    assert_one_line(caught.value, "larger than 1 MiB")
    assert elapsed < 2.0
    assert peak < 8 * MB, f"{peak / MB:.1f} MiB held for a 1 MiB cap"
    # The client hung up: the server could not push the 20 MB (socket buffers hold a few MB).
    assert server.bytes_sent < 12 * MB, f"{server.bytes_sent / MB:.1f} MB sent"
    sent = server.bytes_sent / MB
    print(f"20 MB stream, 1 MiB cap: {elapsed:.2f} s, peak {peak / MB:.1f} MiB, sent {sent:.1f} MB")


async def test_a_20_mb_stream_under_the_default_cap_fails_fast(client: KeitaroClient) -> None:
    async with (
        KeitaroClient(allow_private_hosts=True, timeout=5) as default,
        RawServer(streams(20 * MB, declare_length=False)) as server,
    ):
        started = time.monotonic()
        with pytest.raises(ResponseTooLarge) as caught:
            await default.lookup_postback(Tracker.from_user_input(server.url, API_KEY), 42)
    assert_one_line(caught.value, "larger than 16 MiB")
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_to_another_port_is_refused_and_the_target_gets_nothing(
    client: KeitaroClient, status: int
) -> None:
    async with RawServer(answer(200, ONE_CAMPAIGN)) as target:
        location = f"{target.url}/admin_api/v1/campaigns"
        async with RawServer(answer(status, b"", Location=location)) as redirecting:
            tracker = Tracker.from_user_input(redirecting.url, API_KEY)
            with pytest.raises(RedirectRefused) as caught:
                await client.lookup_postback(tracker, 42)
        await asyncio.sleep(0.05)
    assert_one_line(caught.value, f"HTTP {status}: the tracker redirects to 127.0.0.1")
    assert caught.value.location_host == "127.0.0.1"
    assert target.connections == 0


async def test_a_redirect_to_another_host_is_refused(client: KeitaroClient) -> None:
    location = "https://evil.example/admin_api/v1/campaigns"
    async with RawServer(answer(302, b"", Location=location)) as redirecting:
        with pytest.raises(RedirectRefused) as caught:
            await client.lookup_postback(Tracker.from_user_input(redirecting.url, API_KEY), 42)
    assert_one_line(caught.value, "redirects to evil.example")


async def test_string_ids_are_read_as_the_numbers_they_are(client: KeitaroClient) -> None:
    data = [{"id": "1", "name": "Main", "postbacks": [{"id": "42", "url": "https://a/pb"}]}]
    async with RawServer(answer(200, data)) as server:
        found = await client.lookup_postback(Tracker.from_user_input(server.url, API_KEY), 42)
    assert (found.postback.id, found.campaign.id, found.postback.url) == (42, 1, "https://a/pb")


async def test_other_trackers_are_served_while_one_hangs(client: KeitaroClient) -> None:
    campaigns = [make_campaign(1, "Main", postbacks=[make_postback(42, 1)])]
    async with RawServer(never_answers) as hanging, FakeTracker(API_KEY, campaigns) as healthy:
        stuck = [
            asyncio.create_task(
                client.lookup_postback(Tracker.from_user_input(hanging.url, API_KEY), 42)
            )
            for _ in range(20)  # more than the per-host connection limit
        ]
        await asyncio.sleep(0.1)
        started = time.monotonic()
        good = Tracker.from_user_input(healthy.url, API_KEY)
        found = await asyncio.gather(*(client.lookup_postback(good, 42) for _ in range(20)))
        served_in = time.monotonic() - started
        outcomes = await asyncio.gather(*stuck, return_exceptions=True)
    assert served_in < 0.5 * TIMEOUT, served_in
    assert all(lookup.postback.id == 42 for lookup in found)
    assert all(isinstance(outcome, TrackerTimeout) for outcome in outcomes), outcomes


# Kinds of fault covered: the table, plus refused, never answers, 20 MB chunked (twice: a small
# cap measured, the default cap), redirects to another port and to another host.
FAULT_KINDS = len(FAULTS) + 5
